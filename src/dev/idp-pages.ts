/**
 * The dev IdP's own pages: the logout confirmation, the post-logout page and errors (login and consent
 * are oidc-provider's development pages).
 */
const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;background:#f4f6fb;color:#1d2433;display:flex;justify-content:center;padding-top:10vh}' +
  'main{background:#fff;border-radius:10px;box-shadow:0 2px 10px rgba(0,0,0,.08);padding:2rem 2.5rem;max-width:28rem}' +
  'h1{font-size:1.4rem;margin-top:0}button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #9aa5b8;background:#fff;cursor:pointer;margin-right:.5rem}' +
  'button.primary{background:#2f5bd3;border-color:#2f5bd3;color:#fff}pre{white-space:pre-wrap;background:#f4f6fb;padding:.5rem;border-radius:6px}';

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · demo IdP</title><style>${PAGE_STYLE}</style></head><body><main>${body}</main></body></html>`;
}
