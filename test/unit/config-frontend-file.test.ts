/** loadConfig: the frontend from the BFF_CONFIG file (split from the former config.test.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/index.js';
import { BASE, tempDir, writeTemp } from '../helpers/config.js';

describe('loadConfig with a BFF_CONFIG file: the frontend', () => {
  it('resolves a relative frontend dir against the file', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'public'));
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, 'frontend:\n  dir: ./public\n');
    expect(loadConfig({ ...BASE, BFF_CONFIG: file }).frontend.dir).toBe(path.join(dir, 'public'));
  });

  it('lets env pick the frontend as a whole', () => {
    const file = writeTemp('gateway.yaml', 'frontend:\n  dir: /definitely/not/here\n');
    expect(loadConfig({ ...BASE, BFF_CONFIG: file, FRONTEND_URL: 'http://localhost:5173' }).frontend).toEqual(
      {
        dir: undefined,
        url: 'http://localhost:5173',
      },
    );
  });
});
