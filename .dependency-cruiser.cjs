/**
 * The import rules of src/ and sip/ (DESIGN.md §3): dependencies run one way,
 * control → calls → signalling / media / livekit / recording → store, cluster, observability, config,
 * and nothing imports upward or in a circle. `npm run deps` checks them; CI runs it with lint.
 */
const TOP = 'src/(main|gateway)\\.ts$|^src/launcher/';
const layer = (names) => `^src/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: split what both need into a third.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nothing-imports-the-top',
      severity: 'error',
      comment: 'main.ts, gateway.ts and the launcher compose the parts; no part imports them.',
      from: { pathNot: TOP },
      to: { path: TOP },
    },
    {
      name: 'control-is-the-top-layer',
      severity: 'error',
      from: {
        path: layer([
          'calls',
          'signalling',
          'media',
          'livekit',
          'recording',
          'store',
          'cluster',
          'observability',
          'config',
        ]),
      },
      to: { path: layer(['control']) },
    },
    {
      name: 'calls-above-signalling-and-media',
      severity: 'error',
      comment: 'signalling, media, livekit and recording serve calls; they do not know it.',
      from: {
        path: layer([
          'signalling',
          'media',
          'livekit',
          'recording',
          'store',
          'cluster',
          'observability',
          'config',
        ]),
      },
      to: { path: layer(['calls']) },
    },
    {
      name: 'signalling-is-a-leaf-of-calls',
      severity: 'error',
      comment: 'media, livekit and recording do not speak SIP; the store keeps what signalling writes.',
      from: { path: layer(['media', 'livekit', 'recording', 'store', 'cluster', 'observability', 'config']) },
      to: { path: layer(['signalling']) },
    },
    {
      name: 'store-is-the-bottom',
      severity: 'error',
      from: { path: layer(['store', 'cluster', 'observability', 'config']) },
      to: { path: layer(['media', 'livekit', 'recording']) },
    },
    {
      name: 'cluster-is-beside-the-store',
      severity: 'error',
      comment:
        'src/cluster (live state in Redis) sits at the store level: calls and control use both, ' +
        'neither knows the other, and what both build on (config, observability) knows neither.',
      from: { path: layer(['store', 'observability', 'config']) },
      to: { path: layer(['cluster']) },
    },
    {
      name: 'cluster-knows-no-store',
      severity: 'error',
      from: { path: layer(['cluster']) },
      to: { path: layer(['store']) },
    },
    {
      name: 'the-sip-server-is-its-own-program',
      severity: 'error',
      comment: 'sip/ runs as its own process and shares no code with the gateway app.',
      from: { path: '^sip/' },
      to: { path: '^src/' },
    },
    {
      name: 'production-code-imports-no-tests',
      severity: 'error',
      from: { path: '^(src|sip)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    // Type-only imports count: a cycle of types is still a cycle a reader has to untangle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
