/**
 * Authentication context classes at the dev IdP, for step-up sign-in: every sign-in is
 * `urn:example:pwd` (amr `pwd`), and one whose authorization request asks for `urn:example:mfa` in
 * `acr_values` is `urn:example:mfa` (amr `pwd`, `otp`: the second factor is simulated, the login form
 * is the same). oidc-provider treats `acr_values` as voluntary and would reuse a weaker IdP session
 * (SSO), so a login check asks for the login again in that case (with `prompt=none`: `login_required`).
 */
import { interactionPolicy, type Provider } from 'oidc-provider';

export const ACR_PWD = 'urn:example:pwd';
export const ACR_MFA = 'urn:example:mfa';
export const ACR_VALUES = [ACR_PWD, ACR_MFA];

function asksForMfa(params: Record<string, unknown>): boolean {
  const values = params.acr_values;
  return typeof values === 'string' && values.split(' ').includes(ACR_MFA);
}

/** oidc-provider's default prompts, plus: a request for mfa over a weaker IdP session needs the login. */
export function stepUpPolicy(): interactionPolicy.Policy {
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.push(
      new interactionPolicy.Check(
        'acr_step_up',
        'a stronger authentication (acr_values) is requested',
        'login_required',
        ({ oidc }) =>
          asksForMfa(oidc.params) && oidc.session?.acr !== ACR_MFA && oidc.result?.login === undefined,
      ),
    );
  return policy;
}

const INTERACTION_SUBMIT = /^\/interaction\/([^/]+)$/;

/**
 * Gives each login its acr and amr: the development login form (devInteractions) records only the
 * account, so its result is completed here, after the form was submitted and before the
 * authorization resumes (which reads the result).
 */
export function recordAcr(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    const uid = ctx.method === 'POST' ? INTERACTION_SUBMIT.exec(ctx.path)?.[1] : undefined;
    if (uid === undefined) return;
    const interaction = await provider.Interaction.find(uid);
    const login = interaction?.result?.login;
    if (interaction === undefined || login === undefined) return;
    const mfa = asksForMfa(interaction.params);
    interaction.result = {
      ...interaction.result,
      login: { ...login, acr: mfa ? ACR_MFA : ACR_PWD, amr: mfa ? ['pwd', 'otp'] : ['pwd'] },
    };
    await interaction.persist();
  });
}
