/**
 * Adversarial corpus, /auth (issue 9, deliverable 6), back-channel logout: fast-check properties over
 * logout tokens (JWT-shaped garbage, unsigned, wrongly signed, signed by the IdP's own key with one defect).
 * One real stack with two signed-in users (test/helpers/adversarial-auth-stack.ts). Every answer is a
 * contract answer (no 5xx, no stack trace, JSON errors per the table, HTML pages on /auth/login and
 * /auth/callback, nothing injected into a header), no session appears or ends, no pending login
 * survives that the test did not start. Replay a failure with FC_SEED=<seed>.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAnswer, errorCode, rawRequest, type RawClient } from '../helpers/arbitraries.js';
import {
  EVENT,
  useAdversarialAuthStack,
  type AuthCorpusUser,
  type SigningKey,
} from '../helpers/adversarial-auth-stack.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack } from '../helpers/gateway.js';

const world = useAdversarialAuthStack('backchannel');
const { outcomes, findings, count, runBatch, answered } = world;
let stack: Stack;
let users: AuthCorpusUser[];
let host: string;
let client: RawClient;
let secrets: string[];
let idpKey: SigningKey;
let foreignKey: SigningKey;
beforeAll(() => {
  ({ stack, users, host, client, secrets, idpKey, foreignKey } = world);
});

describe('adversarial corpus: /auth', () => {
  it('back-channel logout tokens: garbage, unsigned, wrongly signed or defective are a 400 invalid_request', async () => {
    const b64 = (v: unknown) =>
      Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const defect = fc.constantFrom(
      'none',
      'no-exp',
      'old-iat',
      'future-iat',
      'expired',
      'nonce',
      'no-events',
      'wrong-events',
      'wrong-aud',
      'wrong-iss',
      'no-jti',
      'no-sid-sub',
      'no-iat',
    );
    const signer = fc.constantFrom(
      'idp-rs256',
      'foreign-rs256',
      'alg-none',
      'hs256-client-secret',
      'idp-key-wrong-kid',
      'bad-signature',
    );
    const shaped = fc.oneof(
      fc
        .array(fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/), { minLength: 1, maxLength: 5 })
        .map((parts) => parts.join('.')),
      fc
        .record({ h: fc.jsonValue(), p: fc.jsonValue(), s: fc.string({ maxLength: 20 }) })
        .map(({ h, p, s }) => `${b64(h)}.${b64(p)}.${b64(s)}`),
      fc.string({ maxLength: 100 }),
    );
    const property = fc.asyncProperty(
      fc.record({
        kind: fc.constantFrom('shaped', 'signed', 'signed', 'signed'),
        shaped,
        defect,
        signer,
        target: fc.constantFrom(0, 1),
        bySid: fc.boolean(),
        envelope: fc.constantFrom(
          'form',
          'form',
          'form-twice',
          'json',
          'no-type',
          'oversized',
          'many-fields',
        ),
      }),
      async ({ kind, shaped: garbage, defect: d, signer: sig, target, bySid, envelope }) => {
        count('backchannel');
        const u = users[target]!;
        let token = garbage;
        let legit = false;
        if (kind === 'signed') {
          const now = Math.floor(Date.now() / 1000);
          const claims: JWTPayload = {
            iss: stack.idp.issuer,
            aud: CLIENT_ID,
            iat: now,
            exp: now + 120,
            jti: randomUUID(),
            events: { [EVENT]: {} },
          };
          // Only the IdP's key and no defect make a valid token: it names no one. Defective ones name a real user.
          legit = sig === 'idp-rs256' && d === 'none';
          if (bySid && u.idpSid) claims.sid = legit ? `not-${u.idpSid}` : u.idpSid;
          else claims.sub = legit ? `not-${u.sub}` : u.sub;
          const edits: Record<string, () => void> = {
            none: () => undefined,
            'no-exp': () => delete claims.exp,
            'old-iat': () => (claims.iat = now - 365 * 86_400),
            'future-iat': () => (claims.iat = now + 365 * 86_400),
            expired: () => (claims.exp = now - 60),
            nonce: () => (claims.nonce = 'n'),
            'no-events': () => delete claims.events,
            'wrong-events': () => (claims.events = { 'http://example.com/other': {} }),
            'wrong-aud': () => (claims.aud = 'someone-else'),
            'wrong-iss': () => (claims.iss = 'https://evil.example'),
            'no-jti': () => delete claims.jti,
            'no-sid-sub': () => {
              delete claims.sid;
              delete claims.sub;
            },
            'no-iat': () => delete claims.iat,
          };
          edits[d]!();
          const header = { alg: 'RS256', kid: 'test-rs256', typ: 'logout+jwt' };
          if (sig === 'alg-none') token = `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(claims)}.`;
          else if (sig === 'hs256-client-secret')
            token = await new SignJWT(claims)
              .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
              .sign(new TextEncoder().encode(CLIENT_SECRET));
          else {
            const key = sig === 'foreign-rs256' ? foreignKey : idpKey;
            token = await new SignJWT(claims)
              .setProtectedHeader({
                ...header,
                ...(sig === 'idp-key-wrong-kid' ? { kid: 'unknown-kid' } : {}),
              })
              .sign(key);
            if (sig === 'bad-signature')
              token = `${token.slice(0, -6)}${token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
          }
        }
        const form = new URLSearchParams([['logout_token', token]]);
        if (envelope === 'form-twice') form.append('logout_token', token);
        if (envelope === 'many-fields') for (let i = 0; i < 20; i++) form.append(`f${i}`, 'x');
        let body = envelope === 'json' ? JSON.stringify({ logout_token: token }) : form.toString();
        if (envelope === 'oversized') body = `${body}&pad=${'z'.repeat(70_000)}`;
        const type =
          envelope === 'json'
            ? 'application/json'
            : envelope === 'no-type'
              ? undefined
              : 'application/x-www-form-urlencoded';
        const lines = [
          ...(type ? [`Content-Type: ${type}`] : []),
          `Content-Length: ${Buffer.byteLength(body)}`,
        ];
        const what = JSON.stringify({ kind, d, sig, bySid, envelope, token: token.slice(0, 80) });
        const res = answered(
          await client.send(rawRequest('POST', '/auth/backchannel-logout', host, lines, body)),
          what,
        );
        checkAnswer(res, { secrets }, what);
        expect(res.header('cache-control'), what).toBe('no-store');
        if (legit && ['form', 'no-type'].includes(envelope) && res.status === 200) return;
        const outcome = `${res.status} ${errorCode(res) ?? ''}`;
        const shape = kind !== 'signed' ? 'garbage' : sig === 'idp-rs256' ? `IdP-signed, ${d}` : sig;
        outcomes.add('backchannel', `${shape}${envelope === 'form' ? '' : ` (${envelope})`}: ${outcome}`);
        if (outcome !== '400 invalid_request' && !(legit && res.status === 200))
          findings.add(`backchannel ${envelope}/${kind}: ${outcome}`);
        else
          expect(res.status, `${what} -> ${res.status} ${res.text}`).toBe(
            legit && envelope === 'form' ? 200 : 400,
          );
        expect(await stack.redis.client.exists(stack.parts.keys.session(u.who.sid)), what).toBe(1);
      },
    );
    await runBatch('backchannel', 1200, property);
  }, 120_000);
});
