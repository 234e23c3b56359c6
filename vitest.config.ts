import { configDefaults, defineConfig } from 'vitest/config';

// The Vite + React dev-server test starts a second Vite and Chromium and compiles React on first
// load: it runs as a project of its own (still part of `npm test`), outside the default project.
const SLOW = ['test/e2e/vite-react.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: [],
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SLOW],
        },
      },
      { extends: true, test: { name: 'e2e-vite', include: SLOW } },
    ],
  },
});
