/**
 * The write commands a real redis-server executed, seen through MONITOR: commands run inside a Lua
 * script (EVAL, EVALSHA, FCALL) are listed one by one, so a slide done by a compare-and-set script is a
 * write here just as a plain SET is. Whether a command writes is Redis's own answer (`COMMAND INFO`
 * flag `write`), not a guess from its name.
 *
 *   const writes = await recordWrites(redis.port);
 *   …requests…
 *   expect(await writes.stop()).toEqual([]);
 */
import type { Redis } from 'ioredis';
import { assertionClient } from './redis-process.js';

export interface RecordedCommand {
  /** Lower-case command name, e.g. `set`, `pexpire`. */
  name: string;
  /** The command's arguments after its name (keys and values as sent). */
  args: string[];
  /** `lua` for a command a script ran, else the client's address. */
  source: string;
}

export interface WriteRecorder {
  /** Every command seen so far (writes or not), for a failure message. */
  all(): RecordedCommand[];
  /**
   * Waits until MONITOR has delivered everything Redis executed before this call (a marker command
   * is sent and awaited), stops monitoring, and returns the write commands in order.
   */
  stop(): Promise<RecordedCommand[]>;
}

export async function recordWrites(port: number): Promise<WriteRecorder> {
  const control = assertionClient(port);
  const base = assertionClient(port);
  const monitor: Redis = await base.monitor();
  const seen: RecordedCommand[] = [];
  const marker = `bff-test-write-recorder-${process.pid}-${Date.now()}`;
  let markerSeen: (() => void) | undefined;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const [name = '', ...rest] = args;
    if (name.toLowerCase() === 'echo' && rest[0] === marker) markerSeen?.();
    else seen.push({ name: name.toLowerCase(), args: rest, source });
  });
  // MONITOR is live once the call above resolved; nothing before it is recorded.
  const flags = new Map<string, boolean>();
  const isWrite = async (name: string): Promise<boolean> => {
    if (!flags.has(name)) {
      const info = (await control.command('INFO', name)) as Array<[string, number, string[]] | null>;
      flags.set(name, info[0]?.[2]?.includes('write') ?? false);
    }
    return flags.get(name)!;
  };
  return {
    all: () => [...seen],
    async stop() {
      const arrived = new Promise<void>((resolve) => (markerSeen = resolve));
      await control.echo(marker);
      await arrived;
      monitor.disconnect();
      base.disconnect();
      const writes: RecordedCommand[] = [];
      for (const command of seen) if (await isWrite(command.name)) writes.push(command);
      control.disconnect();
      return writes;
    },
  };
}
