import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message:
            'Read the environment only in config.ts: configuration is parsed once, at the edge, and passed in.',
        },
      ],
    },
  },
  {
    files: [
      '**/config.ts',
      '**/main.ts',
      '**/*.test.ts',
      'test/**',
      '**/test/**',
      'bench/**',
      'packages/*/bench/**',
      'scripts/**',
      'packages/testing/**',
      '*.config.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
