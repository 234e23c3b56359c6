import { Invalid } from './invalid.js';

/**
 * CONTENT_SECURITY_POLICY / headers.contentSecurityPolicy: the whole policy, sent as given, or `off`.
 * A value that could split or inject a header, or that is not `directive value; …` shaped, is refused
 * so a typo never turns into a silently ignored policy.
 */
export function parseContentSecurityPolicy(value: string | number): string {
  if (typeof value !== 'string') throw new Invalid('must be a policy string or off');
  const policy = value.trim();
  if (policy.toLowerCase() === 'off') return 'off';
  if (policy === '') throw new Invalid('must not be empty: give a whole policy, or off');
  // Field-value characters only (RFC 9110 §5.5): no CR, LF or other controls.
  if (/[^\t\x20-\x7e]/.test(policy))
    throw new Invalid('must hold printable ASCII only (no line breaks or control characters)');
  for (const directive of policy.split(';')) {
    const name = directive.trim().split(/\s+/)[0] ?? '';
    if (name !== '' && !/^[a-z][a-z0-9-]*$/i.test(name))
      throw new Invalid(`has a directive name that is not one: ${JSON.stringify(name)}`);
  }
  return policy;
}
