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
}

export function captureLogs(): CapturedLogs {
  let buffer = '';
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: unknown, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
      buffer += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      cb();
    },
  });
  const lines = (): string[] => buffer.split('\n').filter((l) => l.length > 0);
  return {
    stream,
    lines,
    text: () => buffer,
    json: () =>
      lines().flatMap((l) => {
        try {
          const v: unknown = JSON.parse(l);
          return v !== null && typeof v === 'object' && !Array.isArray(v)
            ? [v as Record<string, unknown>]
            : [];
        } catch {
          return [];
        }
      }),
    clear: () => {
      buffer = '';
    },
  };
}
