/** Shared by the test/unit/config-*.test.ts files: a valid base env and ways to load or fail. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config/index.js';

export type Env = Record<string, string | undefined>;

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SECRET_A = 'a'.repeat(40);
export const SECRET_B = 'b'.repeat(40);
export const KEY_STD = Buffer.alloc(32, 0xfb).toString('base64'); // contains + and /
export const KEY_URL = Buffer.alloc(32, 0xfb).toString('base64url');

export const BASE: Env = {
  OIDC_ISSUER: 'https://login.example.com',
  OIDC_CLIENT_ID: 'bff',
  OIDC_CLIENT_SECRET: 'client-secret',
};

export function load(extra: Env = {}): ReturnType<typeof loadConfig> {
  return loadConfig({ ...BASE, ...extra });
}

/** The ConfigError thrown by loading `env` (without BASE). */
export function errorOf(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'bff-config-'));
}

export function writeTemp(name: string, text: string): string {
  const file = path.join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}
