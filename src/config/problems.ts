/**
 * Collects configuration problems instead of stopping at the first. A parser throws Invalid
 * ("must …: fix"); `at` turns it into a problem naming where the value came from and returns
 * undefined, so the loader carries on and later checks that need the value skip themselves.
 */
import { ConfigError, type ConfigProblem } from './errors.js';
import { Invalid } from './invalid.js';

/** Where a value came from: what an error names. */
export interface Source {
  variable: string;
  /** `PORT`, or `PORT (port in gateway.yaml)` for a file value. */
  label: string;
  fileKey?: string;
}

export interface Raw<T> {
  value: T;
  src: Source;
}

export class Problems {
  private readonly list: ConfigProblem[] = [];
  private readonly bad = new Set<string>();

  /** Records `message` as is (it names the variable itself). */
  add(variable: string, message: string, fileKey?: string): undefined {
    this.list.push({ variable, message, fileKey });
    this.bad.add(variable);
    if (fileKey !== undefined) this.bad.add(fileKey);
    return undefined;
  }

  /** Records "<label> <problem>" for a value from `src`. */
  fail(src: Source, problem: string): undefined {
    return this.add(src.variable, `${src.label} ${problem}`, src.fileKey);
  }

  /** Runs a value parser; its Invalid becomes a problem naming the source, and the result undefined. */
  at<T>(src: Source, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (err) {
      if (err instanceof Invalid) return this.fail(src, err.message);
      throw err;
    }
  }

  /** Parses a value that may be absent: undefined in, undefined out. */
  parse<T, R>(raw: Raw<T> | undefined, parse: (value: T) => R): R | undefined {
    return raw === undefined ? undefined : this.at(raw.src, () => parse(raw.value));
  }

  /** True when a problem was recorded for this variable or file key: checks that depend on it skip. */
  has(name: string): boolean {
    return this.bad.has(name);
  }

  /** Marks a file key as bad without a message of its own (its problem was reported under another name). */
  markBad(name: string): void {
    this.bad.add(name);
  }

  get count(): number {
    return this.list.length;
  }

  /** Throws every recorded problem at once. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new ConfigError(this.list);
  }
}
