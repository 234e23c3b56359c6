import { Router } from 'express';
import type { IdentityProvider } from '../oidc/provider.js';
import type { KvStore } from '../session/store/kv-store.js';

/** /healthz: the process runs. /readyz: the store answers and discovery is loaded. */
export function healthRoutes(kv: KvStore, idp: IdentityProvider, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const store = await kv.ping().then(
      () => 'ok',
      () => 'unavailable',
    );
    const oidc = idp.ready ? 'ok' : 'not_discovered';
    const ready = store === 'ok' && oidc === 'ok' && !isShuttingDown();
    res
      .status(ready ? 200 : 503)
      .json({ ready, checks: { store, idp: oidc, shuttingDown: isShuttingDown() } });
  });
  return router;
}
