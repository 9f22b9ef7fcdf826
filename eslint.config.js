// One linter for the whole tree. Besides style it enforces the architecture in
// ../shared/ARCHITECTURE.md: edges -> domain -> ports -> core, never back, and a
// capability reaches another only through its index.ts.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const EDGES = ['http', 'sip', 'media', 'telephony', 'webrtc', 'cli', 'sdk'];
const DOMAINS = [
  'accounts',
  'events',
  'voice',
  'presence',
  'messaging',
  'throttle',
  'tracking',
  'billing',
  'intelligence',
  'coverage',
];
const PORTS = ['store', 'state', 'queue', 'webhook', 'cache', 'plugin'];

const onlyIndex = (folders) =>
  folders.map((f) => ({
    group: [`../${f}/**`, `!../${f}/index.js`],
    message: `Import ${f} only through its index.ts.`,
  }));
const forbidAll = (folders, message) => folders.map((f) => ({ group: [`../${f}/**`], message }));

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'bin/', '.tmp/', '.build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    // dependency-cruiser's configuration (the layer and cycle rules; see its header).
    files: ['.dependency-cruiser.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
  {
    // Plain Node scripts (the bundler run by bin/switchboard.js before tsx or a build exists).
    files: ['scripts/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../**'], message: 'core depends on nothing else in src.' }] },
      ],
    },
  },
  ...PORTS.map((p) => ({
    files: [`src/${p}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidAll([...EDGES, ...DOMAINS], 'Ports never depend on domain or edges.'),
            ...onlyIndex(PORTS.filter((o) => o !== p)),
          ],
        },
      ],
    },
  })),
  ...DOMAINS.map((d) => ({
    files: [`src/${d}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidAll(EDGES, 'Domain code never depends on an edge.'),
            ...onlyIndex([...DOMAINS.filter((o) => o !== d), ...PORTS]),
          ],
        },
      ],
    },
  })),
  ...EDGES.map((e) => ({
    files: [`src/${e}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: onlyIndex([...DOMAINS, ...PORTS, ...EDGES.filter((o) => o !== e)]) },
      ],
    },
  })),
  prettier,
);
