import path from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/**
 * FRONTEND_DIR: the SPA's build at `/`. Unknown GET/HEAD paths that accept HTML get `index.html`
 * (client-side routing); everything else falls through to the 404. `index.html` is never cached, so a
 * new deployment is picked up at once; hashed assets may be.
 */
export function staticFrontend(dir: string): RequestHandler[] {
  const index = path.join(dir, 'index.html');
  const noCacheIndex = (res: Response, file: string) => {
    if (file === index) res.setHeader('Cache-Control', 'no-cache');
  };
  return [
    express.static(dir, { index: 'index.html', redirect: false, setHeaders: noCacheIndex }),
    (req: Request, res: Response, next: NextFunction) => {
      if (
        (req.method !== 'GET' && req.method !== 'HEAD') ||
        !req.accepts('html') ||
        req.path.startsWith('/auth/')
      )
        return next();
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index, (err) => err && next());
    },
  ];
}
