import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { HairpinError } from '../errors.ts';
import { bytesFromText } from '../file-bytes.ts';
import { readInput } from './input.ts';

function stdinOf(...chunks: Buffer[]): PassThrough {
  const stream = new PassThrough();
  for (const c of chunks) stream.write(c);
  stream.end();
  return stream;
}

describe('readInput', () => {
  const latin1 = Buffer.from('10.0.0.9 caf\xe9.local # caf\xe9\n', 'latin1');

  test('a file or stdin, bytes kept whatever the encoding', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hairpin-input-')), 'in');
    writeFileSync(file, latin1);
    const fromFile = await readInput(file, stdinOf());
    expect(bytesFromText(fromFile).equals(latin1)).toBe(true);
    const fromStdin = await readInput('-', stdinOf(latin1.subarray(0, 12), latin1.subarray(12)));
    expect(fromStdin).toBe(fromFile);
  });

  test('more than the limit is refused, from a file or stdin', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hairpin-input-')), 'in');
    writeFileSync(file, Buffer.alloc(101));
    await expect(readInput(file, stdinOf(), 100)).rejects.toThrow(
      new HairpinError('HAIRPIN_INPUT', `${file}: input is larger than 100 bytes`),
    );
    await expect(readInput(file, stdinOf(), 101)).resolves.toHaveLength(101);
    const endless = new PassThrough();
    const feed = setInterval(() => endless.write(Buffer.alloc(64)), 1);
    try {
      await expect(readInput('-', endless, 1000)).rejects.toThrow(
        'standard input: input is larger than 1000 bytes',
      );
    } finally {
      clearInterval(feed);
    }
  });

  test('a missing file is an error with its code', async () => {
    await expect(readInput('/nonexistent/hairpin', stdinOf())).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
