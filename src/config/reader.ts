/**
 * Reads one setting by its env name: env first, then the file key the table names, then the
 * table's default. Values are parsed by the table's parser; a bad value becomes a problem naming
 * the variable (and the file key when it came from the file) and reads as undefined.
 */
import type { FileData } from './file.js';
import type { Problems, Raw, Source } from './problems.js';
import { SETTINGS, type Parsed, type RawValue, type SettingName } from './settings.js';

export type Env = Record<string, string | undefined>;

/** An env value, trimmed; empty counts as unset. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function fileValue(data: FileData, key: string): unknown {
  let node: unknown = data;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | null | undefined)?.[part];
  return node;
}

export class Reader {
  constructor(
    private readonly env: Env,
    private readonly file: FileData,
    /** The BFF_CONFIG path, for messages; undefined without a file. */
    readonly filePath: string | undefined,
    readonly problems: Problems,
  ) {}

  envHas(name: SettingName): boolean {
    return envValue(this.env, name) !== undefined;
  }

  /** The value as given, with where it came from; undefined when unset (or `ignoreFile` and not in env). */
  raw<N extends SettingName>(name: N, options: { ignoreFile?: boolean } = {}): Raw<RawValue<N>> | undefined {
    const fromEnv = envValue(this.env, name);
    // Every setting's shape takes a string (settings.ts), which is all env gives.
    if (fromEnv !== undefined) return { value: fromEnv as RawValue<N>, src: { variable: name, label: name } };
    const key = SETTINGS[name].key;
    if (key === undefined || options.ignoreFile === true) return undefined;
    const found = fileValue(this.file, key);
    const value = typeof found === 'string' ? found.trim() : found;
    if (value === undefined || value === null || value === '') return undefined;
    const src: Source = {
      variable: name,
      label: `${name} (${key} in ${this.filePath ?? 'BFF_CONFIG'})`,
      fileKey: key,
    };
    // The file passed this key's schema (file.ts), so the value has the setting's raw shape.
    return { value: value as RawValue<N>, src };
  }

  /** Parses a raw value with the setting's own parser. */
  parse<N extends SettingName>(name: N, raw: Raw<RawValue<N>> | undefined): Parsed<N> | undefined {
    // TypeScript cannot pair the union of parsers with N; the table pairs each with its own shape.
    const parse = SETTINGS[name].parse as unknown as (value: RawValue<N>) => Parsed<N>;
    return this.problems.parse(raw, parse);
  }

  /**
   * The parsed value, else the table's default; undefined when unset without a default, or bad.
   * An unset required setting is a problem ("X is required: set it to …").
   */
  value<N extends SettingName>(name: N, options: { ignoreFile?: boolean } = {}): Parsed<N> | undefined {
    const raw = this.raw(name, options);
    if (raw !== undefined) return this.parse(name, raw);
    const required = SETTINGS[name].required;
    if (required !== undefined) return this.missing(name, required);
    return this.defaultOf(name);
  }

  /** The table's default, parsed (a default that does not parse is a bug, not a configuration error). */
  defaultOf<N extends SettingName>(name: N): Parsed<N> | undefined {
    const text = SETTINGS[name].default;
    if (text === undefined) return undefined;
    return (SETTINGS[name].parse as unknown as (value: string) => Parsed<N>)(text);
  }

  /** True when a problem was recorded for this setting: checks that depend on it skip. */
  bad(name: SettingName): boolean {
    return this.problems.has(name);
  }

  /** Records "X is required", mentioning the file key when there is a file (unless X is already bad). */
  private missing(name: SettingName, fix: string): undefined {
    if (this.bad(name)) return undefined;
    const key = SETTINGS[name].key;
    const orFile = this.filePath === undefined || key === undefined ? '' : ` (or ${key} in ${this.filePath})`;
    return this.problems.add(name, `${name} is required: set it${orFile} to ${fix}`);
  }
}

/** What a section loader gets: the reader, the problems so far and the warnings to log at start. */
export interface Context {
  r: Reader;
  problems: Problems;
  production: boolean;
  warnings: string[];
}
