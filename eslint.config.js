// ESLint: `make lint` runs it with --max-warnings 0 over the gateway, its dashboard, the tests and the tools.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'gateway/dist/', 'gateway/src/gen/', 'test/bench/build/', 'build/', 'firmware/', 'data/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // tsconfig.test.json covers the gateway, the tests, the bench tools and the schema tools: one typed program.
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A switch with a default branch handles the rest on purpose; one without must name every case.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // On, with a reasoned disable comment where a callee or callback changes the value TypeScript narrowed.
      '@typescript-eslint/no-unnecessary-condition': 'error',
      // `async` on a function that implements a Promise-returning interface (prom-client's get, the store's
      // close, an ava test) is not a bug; the floating and misused promise rules catch the ones that are.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read response bodies and JSON lines as `any` and assert on them: a wrong shape fails the assertion.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The bench reads the gateway's status loosely, so that it also measures older gateways.
    files: ['test/bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['gateway/bin/**/*.js', 'shared-schema/tools/**/*.mjs', 'test/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['gateway/dashboard/js/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
);
