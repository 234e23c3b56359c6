/**
 * The demo SPA serves the client as src/dev/spa/bff-client.js, a checked-in build of
 * client/bff-client.ts (so `npm run demo`, docker compose and config/demo.yaml serve it with no build
 * step). It must be exactly what the compiler makes of the source today.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COPY = path.join(ROOT, 'src/dev/spa/bff-client.js');
const REGENERATE =
  'npx tsc -p tsconfig.client.json --outDir src/dev/spa --declaration false --sourceMap false && npx prettier --write src/dev/spa/bff-client.js';

it('src/dev/spa/bff-client.js is client/bff-client.ts compiled (tsconfig.client.json) and formatted', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'bff-client-build-'));
  try {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = [
      '-p',
      'tsconfig.client.json',
      '--outDir',
      out,
      '--declaration',
      'false',
      '--sourceMap',
      'false',
    ];
    execFileSync(process.execPath, [tsc, ...args], { cwd: ROOT, stdio: 'pipe' });
    const compiled = readFileSync(path.join(out, 'bff-client.js'), 'utf8');
    const expected = await format(compiled, { ...(await resolveConfig(COPY)), filepath: COPY });
    const actual = readFileSync(COPY, 'utf8');
    expect(actual === expected, `src/dev/spa/bff-client.js is stale; regenerate it: ${REGENERATE}`).toBe(
      true,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);
