/**
 * Captures what a logger writes: `pino(options, logs.stream)`, then assert on `logs.lines()`.
 */
import { Writable } from 'node:stream';

export interface CapturedLogs {
  /** Pass to pino as its destination. */
  stream: Writable;
  /** Complete lines written so far (plus an unterminated last one), without empty lines. */
  lines(): string[];
  /** Everything written so far, as one string. */
  text(): string;
  /** Every line that parses as a JSON object (pino's output). */
  json(): Array<Record<string, unknown>>;
  /** Forget what was captured. */
  clear(): void;
  /** Resolves with the first JSON line (already written or still to come) that `test` accepts. */
  waitFor(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function parseJsonLine(l: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(l);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function captureLogs(): CapturedLogs {
  let buffer = '';
  // Called after every write: the waiters of waitFor.
  const listeners = new Set<() => void>();
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: unknown, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
      buffer += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      for (const listener of listeners) listener();
      cb();
    },
  });
  const lines = (): string[] => buffer.split('\n').filter((l) => l.length > 0);
  const json = (): Array<Record<string, unknown>> =>
    lines().flatMap((l) => {
      const v = parseJsonLine(l);
      return v ? [v] : [];
    });
  return {
    stream,
    lines,
    text: () => buffer,
    json,
    clear: () => {
      buffer = '';
    },
    waitFor: (test) =>
      new Promise((resolve) => {
        const check = (): void => {
          const found = json().find(test);
          if (!found) return;
          listeners.delete(check);
          resolve(found);
        };
        listeners.add(check);
        check();
      }),
  };
}
