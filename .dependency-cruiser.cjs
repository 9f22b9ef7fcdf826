// The architecture, machine-checked (npm run lint): see docs/architecture.md.
// edges -> capabilities -> ports -> core, at any depth; a capability reaches another folder
// only through its index.ts; no import cycles, type-only imports included.
const EDGES = ['http', 'sip', 'media', 'telephony', 'cli', 'sdk', 'webrtc'];
const CAPABILITIES = [
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
// Capabilities split into parts (src/<capability>/<part>/), each reached from the rest of its
// capability only through the part's own index.ts (see docs/architecture.md for voice's).
const SPLIT = ['voice'];
const PORTS = ['store', 'state', 'queue', 'webhook', 'cache', 'plugin'];
const any = (names) => `^src/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles (type-only ones too) show tangled ownership.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'only-through-index',
      severity: 'error',
      comment: 'A folder of src/ is reached from outside only through its index.ts.',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/([^/]+)/',
        // core is the shared kernel every layer uses file by file (errors, rest, sid, dates).
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/core/'],
      },
    },
    {
      name: 'parts-through-index',
      severity: 'error',
      comment:
        "A part of a split capability is reached from the capability's other files only through its index.ts.",
      // $1 the capability, $2 the part (or the root file) the import starts from.
      from: { path: `^src/(${SPLIT.join('|')})/([^/]+)` },
      to: { path: '^src/$1/[^/]+/', pathNot: ['^src/$1/$2/', '^src/$1/[^/]+/index\\.ts$'] },
    },
    {
      name: 'capabilities-below-edges',
      severity: 'error',
      comment: 'A capability never depends on an edge (the edges depend on it).',
      from: { path: any(CAPABILITIES) },
      to: { path: any(EDGES) },
    },
    {
      name: 'ports-below-capabilities',
      severity: 'error',
      comment: 'Ports never depend on capabilities or edges.',
      from: { path: any(PORTS) },
      to: { path: any([...CAPABILITIES, ...EDGES]) },
    },
    {
      name: 'core-depends-on-nothing',
      severity: 'error',
      comment: 'core depends on nothing else in src.',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
  ],
  options: {
    // Type-only imports count: they are dependencies of the design, if not of the run.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
