/**
 * The stack the login/logout integration files share: a gateway with extra authorization parameters,
 * plus the small readers those files use (the browser's session cookie, the stored session, the
 * session keys) and the file-wide secrets check: every secret a file saw is looked for in the logs
 * when the file ends (an assertion in `afterAll`, so a leak fails the file).
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { sessionIdFromCookie, startStack, type Stack } from './gateway.js';
import type { TestBrowser } from './browser.js';
import type { SessionRecord } from '../../src/session/records/record.js';

export interface LoginWorld {
  /** The running stack (set in `beforeAll`). */
  readonly stack: Stack;
  /** Every secret value seen during the file's run; the log check at the end looks for each. */
  readonly secrets: Set<string>;
  sessionCookie(browser: TestBrowser): string | undefined;
  sessionKeys(): Promise<string[]>;
  /** Opens the stored session with the browser's cookie (what the gateway does), to learn its tokens. */
  storedSession(browser: TestBrowser): Promise<{ sid: string; record: SessionRecord }>;
}

/** Starts the login stack for the calling file (its `beforeAll`) and stops it after the logs check. */
export function useLoginStack(): LoginWorld {
  let stack: Stack | undefined;
  const secrets = new Set<string>();
  const running = (): Stack => {
    if (!stack) throw new Error('the login stack is not started');
    return stack;
  };
  beforeAll(async () => {
    stack = await startStack({
      env: { OIDC_AUTH_PARAMS: 'audience=https%3A%2F%2Fapi.example.com&ui_locales=en' },
    });
  });
  afterAll(async () => {
    if (!stack) return;
    try {
      const text = stack.logs.text();
      for (const secret of secrets) expect(text).not.toContain(secret);
    } finally {
      await stack.stop();
    }
  });

  const sessionCookie = (browser: TestBrowser) => browser.jar.get(running().baseUrl, 'bff-session');
  return {
    get stack() {
      return running();
    },
    secrets,
    sessionCookie,
    async sessionKeys() {
      return (await running().redis.client.keys('bff:*:session')).sort();
    },
    async storedSession(browser) {
      const cookie = sessionCookie(browser);
      if (!cookie) throw new Error('no session cookie');
      const sid = sessionIdFromCookie(cookie);
      const loaded = await running().parts.records.read(sid);
      if (!loaded) throw new Error('no stored session');
      const t = loaded.record.tokens;
      for (const v of [t.accessToken, t.refreshToken, t.idToken, sid, cookie]) if (v) secrets.add(v);
      return { sid, record: loaded.record };
    },
  };
}
