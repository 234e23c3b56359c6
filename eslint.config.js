import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['src/dev/**', 'test/**', 'bench/**'], rules: { 'no-console': 'off' } },
  // The demo SPA's browser scripts, bff-client.js among them (client/bff-client.ts compiled).
  {
    files: ['src/dev/spa/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'Headers',
          'setTimeout',
          'clearTimeout',
          'setInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
