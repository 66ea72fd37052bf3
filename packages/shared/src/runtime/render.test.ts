import { expect, test } from 'vitest';
import { ErrorCodes, HairpinError } from '../errors.ts';
import { captureIO } from '@hairpin/testing';
import { hostsFromFlags, RenderFailure, runRenderCommand } from './render.ts';

test('every render failure has a code; usage problems print their message alone, exit 2', async () => {
  const usage = new RenderFailure('--corefile FILE|- is required');
  expect(usage).toBeInstanceOf(HairpinError);
  expect(usage.code).toBe(ErrorCodes.USAGE);
  const io = captureIO();
  expect(await runRenderCommand('x render', io, () => Promise.reject(usage))).toBe(2);
  expect(io.err()).toBe('x render: --corefile FILE|- is required\n');
  expect(io.out()).toBe('');
  const policy = { clusterDomain: 'cluster.local', allowedSuffixes: [] };
  expect(() => hostsFromFlags(['a b'], policy)).toThrow(
    expect.objectContaining({ code: ErrorCodes.INVALID_HOST }),
  );
});
