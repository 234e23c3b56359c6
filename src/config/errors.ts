/**
 * A configuration problem that stops start-up. The message is one line naming
 * the variable (and the file key when the value came from the BFF_CONFIG file)
 * and the fix, so main.ts can print it as-is and exit 1.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The env variable at fault; `BFF_CONFIG` for file-only keys (routes, unknown keys). */
  readonly variable: string;
  /** The file key (e.g. `oidc.issuer`, `routes[1].prefix`) when the value came from the file. */
  readonly fileKey: string | undefined;

  constructor(variable: string, message: string, fileKey?: string) {
    // One line, whatever a wrapped parser message contained.
    super(message.replace(/\s*[\r\n]+\s*/g, ' ').trim());
    this.variable = variable;
    this.fileKey = fileKey;
  }
}
