/**
 * The few HTML pages the gateway itself serves (login callback results, the status page at `/`). No
 * script, no external assets.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
${head}
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .25rem}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * After a successful callback: a 200 page that navigates to `returnTo`. A 302 would not do, because a
 * SameSite=Strict cookie set inside the IdP's cross-site redirect chain is not sent on the next hop.
 * `returnTo` is already a validated same-origin path.
 */
export function signedInPage(returnTo: string): string {
  const href = escapeHtml(returnTo);
  return page(
    'Signed in',
    `<meta http-equiv="refresh" content="0;url=${href}">`,
    `<p>Signed in. <a id="continue" href="${href}">Continue</a></p>`,
  );
}

export function errorPage(code: string, message: string): string {
  return page(
    'Sign-in failed',
    '',
    `<h1>Sign-in failed</h1>
<p>Error: <code id="error-code">${escapeHtml(code)}</code></p>
<p>${escapeHtml(message)}</p>
<p><a id="retry" href="/auth/login">Sign in again</a></p>`,
  );
}

/**
 * `/` when no frontend is configured: who is signed in, so a first deployment can be checked from a
 * browser. The sign-out button is a plain same-origin form post (answered with a 303 to the IdP).
 */
export function statusPage(user: { name: string; sub: string } | undefined): string {
  const body = user
    ? `<h1>Signed in</h1>
<p>Signed in as <strong id="user-name">${escapeHtml(user.name)}</strong> (<code id="user-sub">${escapeHtml(user.sub)}</code>).</p>
<form method="post" action="/auth/logout"><button id="sign-out" type="submit">Sign out</button></form>`
    : `<h1>Not signed in</h1>
<p><a id="sign-in" href="/auth/login?returnTo=%2F">Sign in</a></p>`;
  return page(
    'BFF session gateway',
    '',
    `${body}
<p>This is the gateway's status page: configure <code>FRONTEND_DIR</code> or <code>FRONTEND_URL</code> to serve your SPA here.</p>`,
  );
}
