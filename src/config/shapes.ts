import { z } from 'zod';
import type { LogLevel } from './types.js';

// File shapes: zod checks kinds; the parsers check values. YAML gives numbers and booleans, a quoted
// value a string; env always gives strings, which every shape accepts.
export const Str = z.string();
export const Num = z.union([z.number(), z.string()]);
export const Bool = z.union([z.boolean(), z.string(), z.number()]);
export const List = z.union([z.string(), z.array(z.string())]);
export const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export const AuthParams = z.union([z.string(), z.record(z.string(), z.union([Scalar, z.array(Scalar)]))]);
export const TrustProxy = z.union([z.boolean(), z.number(), z.string(), z.array(z.string())]);

// What a file value must be, for shape errors.
export const STRING = 'a string (quote it if YAML reads it as a number or boolean)';
export const DURATION = 'a duration such as 90, 90s, 15m, 12h or 7d';
export const BOOLEAN = 'true or false';
export const URL_STRING = 'a URL string';
export const PORT = 'a port number';
export const HOST_PORTS = 'a list of host:port or a comma-separated string';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
