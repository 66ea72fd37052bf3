// Bundles the current package's src/main.ts into dist/main.js: one ESM file per
// component, run as `node packages/<name>/dist/main.js`. The package's version and the git
// commit are baked in (--version, hairpin_build_info): the commit from HAIRPIN_COMMIT (the
// image build passes it in: its build context has no .git), else `git rev-parse HEAD`,
// else `unknown`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

function gitCommit(): string {
  const given = process.env['HAIRPIN_COMMIT']?.trim();
  if (given !== undefined && given !== '') {
    if (given !== 'unknown' && !/^[0-9a-f]{7,64}$/.test(given)) {
      throw new Error(`HAIRPIN_COMMIT ${JSON.stringify(given)} is not a git commit id`);
    }
    return given;
  }
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : 'unknown';
  } catch {
    return 'unknown'; // no git, or not a checkout
  }
}

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

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
  define: {
    __HAIRPIN_VERSION__: JSON.stringify(version),
    __HAIRPIN_COMMIT__: JSON.stringify(gitCommit()),
  },
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
