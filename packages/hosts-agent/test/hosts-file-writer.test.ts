// In-place writes of a real file, watched by a concurrent reader in another process, and
// through a single-file bind mount (where rename fails with EBUSY) when the test can make one.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyHostsFile } from '@hairpin/shared';
import { corpusFile } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { editFileInPlace } from '../src/hosts-file-writer.ts';

const base = readFileSync(corpusFile('hosts/k8s-pod-hostnetwork.hosts'), 'utf8');

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hairpin-agent-')), 'hosts');
  writeFileSync(file, content);
  return file;
}

describe('editFileInPlace', () => {
  test('writes only when the content differs, keeping the inode', async () => {
    const file = tempFile(base);
    const { statSync } = await import('node:fs');
    const inode = statSync(file).ino;
    expect(
      await editFileInPlace(file, (t) => applyHostsFile(t, '10.96.0.50', ['a.example.com'])),
    ).toBe('written');
    expect(
      await editFileInPlace(file, (t) => applyHostsFile(t, '10.96.0.50', ['a.example.com'])),
    ).toBe('unchanged');
    expect(readFileSync(file, 'utf8')).toBe(
      `${base}10.96.0.50 a.example.com # managed by hairpin\n`,
    );
    expect(await editFileInPlace(file, (t) => applyHostsFile(t, '', []))).toBe('written');
    expect(readFileSync(file, 'utf8')).toBe(base);
    expect(statSync(file).ino).toBe(inode);
  });

  test('bytes of other tools that are not UTF-8 are never rewritten', async () => {
    const original = Buffer.from(`${base}10.0.0.9 caf\xe9.local # caf\xe9\n\xff`, 'latin1');
    const file = tempFile('');
    writeFileSync(file, original);
    const add = (t: string) => applyHostsFile(t, '10.96.0.50', ['a.example.com']);
    expect(await editFileInPlace(file, add)).toBe('written');
    const edited = readFileSync(file);
    expect(edited.subarray(0, original.length).equals(original)).toBe(true);
    expect(await editFileInPlace(file, add)).toBe('unchanged');
    expect(await editFileInPlace(file, (t) => applyHostsFile(t, '', []))).toBe('written');
    expect(readFileSync(file).equals(original)).toBe(true);
  });

  test('a concurrent reader never sees the file empty or a line of other tools missing', async () => {
    const file = tempFile(base);
    const reader = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');const base=${JSON.stringify(base)};let reads=0,bad=0;const end=Date.now()+60000;
       process.stdin.on('data',()=>{console.log(JSON.stringify({reads,bad}));process.exit(0)});
       (function loop(){for(let i=0;i<200;i++){const t=fs.readFileSync(${JSON.stringify(file)},'utf8');reads++;if(t.length===0||!t.startsWith(base))bad++;}
       if(Date.now()<end)setImmediate(loop)})();`,
    ]);
    let out = '';
    reader.stdout.on('data', (c: Buffer) => (out += c.toString()));
    // Many updates of every size: growing, shrinking, emptying our block.
    for (let i = 0; i < 1500; i++) {
      const hosts = Array.from({ length: (i * 7) % 40 }, (_, j) => `h${j}-${i % 3}.example.com`);
      await editFileInPlace(file, (t) => applyHostsFile(t, '10.96.0.50', hosts));
    }
    reader.stdin.write('done\n');
    await once(reader, 'exit');
    const { reads, bad } = JSON.parse(out) as { reads: number; bad: number };
    expect(reads).toBeGreaterThan(1000);
    expect(bad).toBe(0);
  }, 60_000);

  test('through a single-file bind mount: rename fails with EBUSY, the in-place write works', (ctx) => {
    const unshare = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']);
    if (process.getuid?.() !== 0 || unshare.status !== 0) {
      ctx.skip('needs root and unshare(1) to make a private mount namespace');
    }
    const dir = mkdtempSync(join(tmpdir(), 'hairpin-bind-'));
    const node = join(dir, 'node-hosts');
    const mounted = join(dir, 'container-hosts');
    writeFileSync(node, base);
    writeFileSync(mounted, '');
    const writer = fileURLToPath(new URL('../src/hosts-file-writer.ts', import.meta.url));
    const shared = createRequire(import.meta.url).resolve('@hairpin/shared');
    const script = `
      import { renameSync, writeFileSync } from 'node:fs';
      import { editFileInPlace } from ${JSON.stringify(writer)};
      import { applyHostsFile } from ${JSON.stringify(shared)};
      const target = ${JSON.stringify(mounted)};
      writeFileSync(target + '.new', 'replacement');
      let renameError = 'none';
      try { renameSync(target + '.new', target); } catch (e) { renameError = e.code; }
      const result = await editFileInPlace(target, (t) => applyHostsFile(t, '10.96.0.50', ['registry.example.com']));
      console.log(JSON.stringify({ renameError, result }));`;
    const run = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind "$0" "$1" && exec "$2" --input-type=module -e "$3"`,
        node,
        mounted,
        process.execPath,
        script,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ renameError: 'EBUSY', result: 'written' });
    // The node's own file (the bind mount's source) got the line.
    expect(readFileSync(node, 'utf8')).toBe(
      `${base}10.96.0.50 registry.example.com # managed by hairpin\n`,
    );
  });
});
