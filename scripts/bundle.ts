// Bundles the current package's src/main.ts into dist/main.js: one ESM file per
// component, run as `node packages/<name>/dist/main.js`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  // Stack traces need the mappings only (Node's --enable-source-maps), not a copy of every
  // source; and no indentation. Together they halve the image's bundles.
  sourcesContent: false,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  // pino and prom-client are CommonJS and call require() for Node built-ins; an ESM
  // bundle has no require, so give it one, or they fail with "Dynamic require ... is
  // not supported" at run time.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __hairpinCreateRequire } from 'node:module';",
      'const require = __hairpinCreateRequire(import.meta.url);',
    ].join('\n'),
  },
});
