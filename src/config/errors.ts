/** One configuration problem: a single line naming the variable (and file key) and the fix. */
export interface ConfigProblem {
  /** The env variable at fault; `BFF_CONFIG` for file-only keys (routes, unknown keys). */
  readonly variable: string;
  /** One line, e.g. `PORT must be a port number 0-65535 (got "http")`. */
  readonly message: string;
  /** The file key (e.g. `oidc.issuer`, `routes[1].prefix`) when the value came from the file. */
  readonly fileKey: string | undefined;
}

/** Collapses whatever a wrapped parser message contained into one line. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Every configuration problem found at start-up (never just the first), so an operator fixes them
 * in one go. main.ts prints one `config error: …` line per problem and exits 1 before any port
 * opens. `variable`, `fileKey` and `message` describe the first problem, for callers that only
 * look at one; `message` joins all of them on one line.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  readonly variable: string;
  readonly fileKey: string | undefined;

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => ({ ...p, message: oneLine(p.message) }));
    const [first] = lines;
    if (first === undefined) throw new TypeError('ConfigError needs at least one problem');
    super(lines.map((p) => p.message).join('; '));
    this.problems = lines;
    this.variable = first.variable;
    this.fileKey = first.fileKey;
  }
}
