// The demo SPA: everything it knows about the user comes from GET /auth/session, and every API call
// is a same-origin fetch with `X-CSRF: 1`, both through the gateway's SPA client (bff-client.js is
// client/bff-client.ts compiled). It never sees a token and stores nothing.
import { BffError, createBffClient } from './bff-client.js';

const bff = createBffClient({
  // A 401 from /api (no session, or the IdP refused the refresh): offer to sign in again rather than
  // leave the page at once.
  onUnauthenticated: (error) =>
    showSessionEnded(`The API call answered 401 ${error.code}: ${error.message || 'sign in again'}`),
});

const $ = (id) => document.getElementById(id);

const state = {
  calls: 0,
  /** The previous answer's token: { jti, iat, exp }. */
  lastToken: undefined,
};

function setState(name) {
  document.body.dataset.state = name;
  $('loading').hidden = name !== 'loading';
  $('signed-out').hidden = name !== 'signed-out';
  $('session-ended').hidden = name !== 'session-ended';
  $('signed-in').hidden = name !== 'signed-in';
  if (name !== 'signed-in') $('header-user').textContent = '';
}

function signIn() {
  bff.login(location.pathname);
}

function formatTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleTimeString();
}

/** "12 s ago" / "in 48 s" */
function relative(epochSeconds) {
  const delta = Math.round(epochSeconds - Date.now() / 1000);
  const abs = Math.abs(delta);
  if (abs === 0) return 'now';
  const text =
    abs < 90 ? `${abs} s` : abs < 5400 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

function renderTimes() {
  const token = state.lastToken;
  if (!token) return;
  $('token-iat').textContent = `${formatTime(token.iat)} (${relative(token.iat)})`;
  $('token-exp').textContent =
    token.exp * 1000 > Date.now()
      ? `${formatTime(token.exp)} (${relative(token.exp)})`
      : `${formatTime(token.exp)} (expired)`;
}

async function loadSession() {
  setState('loading');
  let session;
  try {
    session = await bff.getSession();
  } catch (err) {
    showSessionEnded(
      err instanceof BffError && err.status !== 0
        ? `GET /auth/session answered ${err.status} ${err.code}.`
        : 'The gateway cannot be reached. Is the demo still running?',
    );
    return;
  }
  if (session === null) {
    setState('signed-out');
    return;
  }
  const user = session.user;
  $('user-name').textContent = user.name ?? user.sub ?? 'unknown';
  $('user-email').textContent = user.email ?? '(none)';
  $('user-sub').textContent = user.sub ?? '';
  $('session-expires').textContent = new Date(session.expiresAt * 1000).toLocaleString();
  $('header-user').textContent = user.name ?? user.sub ?? '';
  setState('signed-in');
}

function showSessionEnded(reason) {
  $('session-ended-reason').textContent = reason;
  setState('session-ended');
}

function addHistory(request, status, token) {
  const row = document.createElement('tr');
  const cells = [
    new Date().toLocaleTimeString(),
    request,
    String(status),
    token ? token.jti : '',
    token ? formatTime(token.iat) : '',
  ];
  for (const text of cells) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  if (token && state.lastToken && token.jti !== state.lastToken.jti) row.className = 'new-token';
  $('history').prepend(row);
  $('history-empty').hidden = true;
}

async function callApi(method) {
  const request = `${method} /api/orders`;
  const init = { method, headers: { accept: 'application/json' } };
  if (method === 'POST') {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify({ item: 'Cream scones' });
  }
  try {
    const res = await bff.api('/api/orders', init);
    showAnswer(request, res.status, await res.json().catch(() => ({})));
  } catch (err) {
    if (!(err instanceof BffError)) throw err;
    // A 401 was handled by onUnauthenticated above; any other error is the answer to show (the
    // demo API's own 403 insufficient_scope included: its body is in err.body).
    if (err.status === 401) return;
    const body =
      err.body && typeof err.body === 'object' ? err.body : { error: err.code, message: err.message };
    showAnswer(request, err.status, body);
  }
}

function showAnswer(request, status, body) {
  state.calls += 1;
  const answer = $('api-answer');
  answer.hidden = false;
  answer.dataset.calls = String(state.calls);
  const claims = body.claims;
  const token = claims ? { jti: claims.jti, iat: claims.iat, exp: claims.exp } : undefined;

  let summary = `${request} → ${status}`;
  if (status === 200) summary += ` · ${body.orders?.length ?? 0} orders`;
  else if (status === 201) summary += ` · order #${body.order?.id} placed`;
  else if (status === 403 && body.error === 'insufficient_scope')
    summary += ` · the token lacks ${body.scope ?? 'a scope'} (this user may only read)`;
  else summary += ` · ${body.error ?? 'error'}: ${body.message ?? ''}`;
  $('api-status').textContent = summary;
  $('api-status').className = `status ${status >= 200 && status < 300 ? 'ok' : 'bad'}`;
  $('api-result').textContent = JSON.stringify(body, null, 2);

  addHistory(request, status, token);
  if (token) {
    const changed = $('token-changed');
    if (state.lastToken && token.jti !== state.lastToken.jti) {
      changed.textContent = `New access token: the gateway refreshed it (the previous one, ${state.lastToken.jti}, was issued at ${formatTime(state.lastToken.iat)}). No reload, no sign-in.`;
      changed.hidden = false;
    } else {
      changed.hidden = true;
    }
    state.lastToken = token;
    $('token-jti').textContent = token.jti;
    $('token-iat').dataset.epoch = String(token.iat);
    $('token-exp').dataset.epoch = String(token.exp);
    $('token-scope').textContent = claims.scope ?? '';
    renderTimes();
  }
}

// Which token each API received: the orders API (/api, the session's token) and the billing API
// (/billing, a route with its own audience). Claims only: the APIs never echo a token.
async function compareTokens() {
  const rows = [];
  for (const path of ['/api/token', '/billing/token']) {
    try {
      const res = await bff.api(path, { headers: { accept: 'application/json' } });
      const t = await res.json();
      rows.push([t.api, String(t.aud), t.scheme, t.jti, t.jkt ?? '-']);
    } catch (err) {
      if (!(err instanceof BffError)) throw err;
      rows.push([path, `${err.status} ${err.code}`, '', '', '']);
    }
  }
  $('api-tokens').replaceChildren(
    ...rows.map((cells) => {
      const row = document.createElement('tr');
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

async function signOut() {
  const button = $('sign-out');
  button.disabled = true;
  try {
    // Ends the gateway session, then navigates to the returned logoutUrl: the IdP ends its session
    // too (RP-initiated logout) and sends the browser back to this page.
    await bff.logout();
  } catch (err) {
    showSessionEnded(`Signing out failed: ${err instanceof BffError ? err.code : 'no answer'}. Try again.`);
  } finally {
    button.disabled = false;
  }
}

$('sign-in').addEventListener('click', signIn);
$('sign-in-again').addEventListener('click', signIn);
$('sign-out').addEventListener('click', signOut);
$('call-api').addEventListener('click', () => callApi('GET'));
$('place-order').addEventListener('click', () => callApi('POST'));
$('compare-tokens').addEventListener('click', () => void compareTokens());
setInterval(renderTimes, 1000);
window.addEventListener('pageshow', (event) => {
  if (event.persisted) void loadSession();
});
void loadSession();
