/**
 * The BFF_CONFIG file: read, parsed as YAML (or JSON), and checked against the schema built from
 * the settings table (settings.ts) and the route fields (routes.ts). Every shape problem is
 * reported, each naming its key (and env variable); the bad values are dropped so the loader can
 * go on and report the rest, skipping checks that depend on them.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { ConfigError } from './errors.js';
import type { Problems } from './problems.js';
import { RouteFile, ROUTE_FIELDS, type RouteFileEntry } from './routes.js';
import { BY_FILE_KEY, SETTINGS } from './settings.js';

/** The file's settings after the shape check, by section (`{ oidc: { issuer } }`); routes apart. */
export type FileData = Record<string, unknown>;

export interface ConfigFile {
  data: FileData;
  /** undefined where an entry was not a mapping (already reported). */
  routes: Array<RouteFileEntry | undefined>;
}

/** The file schema: top-level keys, one strict object per section, and the route list. */
function buildSchema(): z.ZodObject {
  const top: Record<string, z.ZodType> = {};
  const sections: Record<string, Record<string, z.ZodType>> = {};
  for (const [key, name] of BY_FILE_KEY) {
    const schema = SETTINGS[name].schema.nullish();
    const [section, field] = key.split('.');
    if (field === undefined) top[key] = schema;
    else (sections[section!] ??= {})[field] = schema;
  }
  for (const [section, shape] of Object.entries(sections)) top[section] = z.strictObject(shape).nullish();
  top.routes = z.array(RouteFile).nullish();
  return z.strictObject(top);
}

const FileSchema = buildSchema();

function formatKey(keyPath: readonly PropertyKey[]): string {
  return keyPath
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/** Keys allowed at a path of the file, for the "unknown key" hint. */
function knownKeys(keyPath: readonly PropertyKey[]): string[] {
  const [first] = keyPath;
  if (first === undefined) return Object.keys(FileSchema.shape);
  if (first === 'routes') return Object.keys(ROUTE_FIELDS);
  return [...BY_FILE_KEY.keys()]
    .filter((k) => k.startsWith(`${String(first)}.`))
    .map((k) => k.slice(String(first).length + 1));
}

function fatal(message: string): ConfigError {
  return new ConfigError([{ variable: 'BFF_CONFIG', message, fileKey: undefined }]);
}

/** Reads and checks the file. Throws at once when it cannot be read or is not a mapping at all. */
export function readConfigFile(file: string, problems: Problems): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw fatal(`BFF_CONFIG file ${file} cannot be read (${reason}): check the path`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]?.replace(/:$/, '');
    throw fatal(`BFF_CONFIG file ${file} is not valid YAML or JSON: ${reason}`);
  }
  data ??= {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw fatal(`BFF_CONFIG file ${file} must hold a mapping of settings (key: value)`);
  }
  const result = FileSchema.safeParse(data);
  const top = data as FileData;
  const routes = Array.isArray(top.routes) ? [...(top.routes as RouteFileEntry[])] : [];
  if (!result.success) {
    for (const issue of result.error.issues) dropBadValue(issue, top, routes, file, problems);
  }
  return { data: top, routes: top.routes === undefined ? [] : routes };
}

function objectAt(data: FileData, keyPath: readonly PropertyKey[]): Record<PropertyKey, unknown> | undefined {
  let node: unknown = data;
  for (const part of keyPath) node = (node as Record<PropertyKey, unknown> | undefined)?.[part];
  return node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>) : undefined;
}

/** Reports one shape issue and removes what it points at, so the rest loads without it. */
function dropBadValue(
  issue: z.core.$ZodIssue,
  data: FileData,
  routes: Array<RouteFileEntry | undefined>,
  file: string,
  problems: Problems,
): void {
  const keyPath = issue.path;
  const key = formatKey(keyPath);
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) => (key === '' ? k : `${key}.${k}`));
    const known = knownKeys(keyPath).join(', ');
    problems.add(
      'BFF_CONFIG',
      `BFF_CONFIG file ${file} has unknown key ${names.join(', ')}: check the spelling (known keys here: ${known})`,
      names[0],
    );
    const parent = objectAt(data, keyPath);
    for (const k of issue.keys) if (parent) delete parent[k];
    return;
  }
  const [first, index, field] = keyPath;
  if (first === 'routes') {
    const fields = ROUTE_FIELDS as Record<string, { expect: string } | undefined>;
    const expect =
      keyPath.length === 1
        ? 'a list of routes'
        : keyPath.length === 2
          ? 'a mapping with prefix, target, …'
          : (fields[String(field)]?.expect ?? 'valid');
    problems.add(
      'BFF_CONFIG',
      `${formatKey(keyPath.slice(0, 3))} (in ${file}) must be ${expect}`,
      `routes[${String(index)}]`,
    );
    if (keyPath.length === 1) {
      routes.length = 0;
      delete data.routes;
    } else if (keyPath.length === 2) routes[index as number] = undefined;
    else delete objectAt(data, keyPath.slice(0, 2))?.[String(field)];
    return;
  }
  // The longest known key the issue sits under (authParams values are one level deeper).
  for (let n = keyPath.length; n > 0; n--) {
    const candidate = formatKey(keyPath.slice(0, n));
    const name = BY_FILE_KEY.get(candidate);
    if (name !== undefined) {
      const { expect } = SETTINGS[name];
      problems.add(name, `${name} (${candidate} in ${file}) must be ${expect}`, candidate);
      delete objectAt(data, keyPath.slice(0, n - 1))?.[keyPath[n - 1]!];
      return;
    }
  }
  problems.add('BFF_CONFIG', `${key} (in ${file}) must be a mapping of settings`, key);
  // Its settings are bad as a whole: checks that need them (e.g. "is required") skip.
  for (const [k, name] of BY_FILE_KEY) if (k.startsWith(`${key}.`)) problems.markBad(name);
  delete data[String(first)];
}
