import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// The dependency direction README.md states: each library → the libraries it may import.
const BASE = ['config', 'database', 'common'];
const LIBRARY_DEPENDENCIES = {
  common: [],
  config: ['common'],
  database: ['config', 'common'],
  accounts: ['mail', ...BASE],
  artifacts: BASE,
  licensing: BASE,
  catalog: ['artifacts', ...BASE],
  mail: BASE,
  analytics: BASE,
  audit: BASE,
  commerce: ['licensing', 'catalog', 'mail', 'accounts', 'analytics', ...BASE],
  'helm-repo': ['licensing', 'catalog', 'artifacts', ...BASE],
  registry: ['licensing', 'catalog', 'artifacts', 'accounts', ...BASE],
  storefront: ['catalog', 'licensing', 'commerce', 'accounts', 'mail', 'analytics', ...BASE],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'data/**', 'coverage/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // Type-aware promise rules: a promise nobody awaits loses its error (an unhandled rejection kills
    // the process) and its ordering. Only these rules need types, so only they pay for the program.
    // Not require-await: its hits here are async interface implementations (BlobStore.close,
    // PaymentProvider.createCheckout), async generators fed to Readable.from and waitFor predicates.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@berth/*/*', '**/libs/*/src/**'],
              message: 'Import a library through its public entry @berth/<name>.',
            },
          ],
        },
      ],
    },
  },
  // Each library imports only what the README's dependency direction allows, and never the app.
  ...Object.entries(LIBRARY_DEPENDENCIES).map(([lib, allowed]) => ({
    files: [`libs/${lib}/**/*.ts`, `libs/${lib}/**/*.tsx`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: Object.keys(LIBRARY_DEPENDENCIES)
            .filter((other) => other !== lib && !allowed.includes(other))
            .map((other) => ({
              name: `@berth/${other}`,
              message: `${lib} may import only ${allowed.join(', ') || 'no other library'} (dependency direction in README.md).`,
            })),
          patterns: [
            {
              group: ['@berth/*/*', '../../*/src/*', '../../../*/src/*'],
              message: 'Import a library through its public entry @berth/<name>.',
            },
            {
              group: ['**/apps/**', '@berth/store', '@berth/store/*'],
              message: 'No library imports the app.',
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { process: 'readonly', Buffer: 'readonly', fetch: 'readonly', console: 'readonly' },
    },
  },
);
