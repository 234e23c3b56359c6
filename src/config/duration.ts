/**
 * Durations as operators write them: `90` (seconds), `90s`, `15m`, `12h`, `7d`.
 *
 * Deliberately strict: whole numbers only, lower-case units only, no `ms`.
 * Every duration the gateway takes is second-grained, and `10ms` next to `10m`
 * is an easy typo to miss, so sub-second values are rejected rather than guessed.
 */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)([smhd]?)$/;

const HINT = 'use a whole number with an optional unit s, m, h or d (e.g. 90, 90s, 15m, 12h, 7d)';

/** Parses a duration into milliseconds; a bare number (or a number from a YAML file) means seconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 0) throw new Error(`invalid duration ${text}: ${HINT}`);
    return checked(text * 1_000, String(text));
  }
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`invalid duration ${JSON.stringify(text)}: ${HINT}`);
  const unit = (match[2] || 's') as keyof typeof UNIT_MS;
  return checked(Number(match[1]) * UNIT_MS[unit], text);
}

function checked(ms: number, text: string): number {
  if (!Number.isSafeInteger(ms)) throw new Error(`invalid duration ${JSON.stringify(text)}: too large`);
  return ms;
}
