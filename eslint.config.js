import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeOnlyGlobals = [
  'Buffer',
  'process',
  'require',
  '__dirname',
  '__filename',
  'setImmediate',
].map((name) => ({ name, message: 'This code must run in browsers: no Node.js globals.' }));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.tsbuildinfo'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/only-throw-error': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The core, the client's universal and browser entry points (everything but src/node) and
    // the upload page run in browsers.
    files: [
      'packages/core/src/**/*.ts',
      'packages/client/src/**/*.ts',
      'packages/upload-page/src/**/*.ts',
    ],
    ignores: ['**/*.test.ts', 'packages/client/src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'This code must run in browsers: no Node.js modules.' },
            {
              group: ['./node/*', '../node/*'],
              message: "The universal entry point must not reach into './node'.",
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', ...nodeOnlyGlobals],
    },
  },
  {
    // node:test tracks the promises that describe() and it() return.
    files: ['**/*.test.ts', 'tests/src/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['examples/*/app.js'],
    languageOptions: { globals: globals.browser },
  },
);
