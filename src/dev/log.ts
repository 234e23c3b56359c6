/**
 * Console output for the demo: one short line per event, prefixed with the time and the part that
 * speaks (idp, api, gateway, redis, demo). The gateway's pino JSON lines are shortened the same way
 * (set DEMO_RAW_LOGS=1 to see them as they are).
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface DemoLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const NAME_WIDTH = 7;
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const LEVEL_COLORS: Record<string, string> = { debug: '2', info: '32', warn: '33', error: '31', fatal: '31' };

function clock(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}

function renderFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function line(
  name: string,
  level: string,
  message: string,
  fields: Record<string, unknown> = {},
  at?: Date,
): string {
  const rest = renderFields(fields);
  const lvl = paint(LEVEL_COLORS[level] ?? '0', level.padEnd(5));
  return `${paint('2', clock(at))} ${name.padEnd(NAME_WIDTH)} ${lvl} ${message}${rest ? ` ${paint('2', rest)}` : ''}`;
}

export function createLog(name: string): DemoLog {
  const write = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    const text = line(name, level, message, fields);
    if (level === 'error' || level === 'warn') console.error(text);
    else console.log(text);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

/** Shortens one of the gateway's pino JSON lines; anything that is not JSON is printed as it is. */
export function formatGatewayLine(raw: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return line('gateway', 'info', raw);
    entry = parsed as Record<string, unknown>;
  } catch {
    return line('gateway', 'info', raw);
  }
  const {
    level,
    time,
    msg,
    service: _service,
    pid: _pid,
    hostname: _hostname,
    req,
    res,
    responseTime,
    ...rest
  } = entry;
  let message = typeof msg === 'string' ? msg : '';
  if (req && typeof req === 'object') {
    const r = req as { method?: string; path?: string };
    const status = (res as { statusCode?: number } | undefined)?.statusCode;
    message = `${r.method ?? ''} ${r.path ?? ''} ${status ?? ''}${typeof responseTime === 'number' ? ` ${responseTime} ms` : ''}`;
  }
  const at = typeof time === 'string' || typeof time === 'number' ? new Date(time) : undefined;
  return line('gateway', typeof level === 'string' ? level : 'info', message, rest, at);
}
