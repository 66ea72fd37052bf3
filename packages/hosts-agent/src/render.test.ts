import { captureIO } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { runRender } from './render.ts';

const hosts = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n';

describe('render', () => {
  test('appends one managed line; no hosts removes it', async () => {
    const io = captureIO(hosts);
    expect(
      await runRender(
        [
          '--hosts-file',
          '-',
          '--ip',
          '10.96.0.50',
          '--host',
          'b.example.com',
          '--host',
          'a.example.com',
        ],
        io,
      ),
    ).toBe(0);
    expect(io.out()).toBe(`${hosts}10.96.0.50 a.example.com b.example.com # managed by hairpin\n`);
    const back = captureIO(io.out());
    expect(await runRender(['--hosts-file', '-', '--ip', '10.96.0.50'], back)).toBe(0);
    expect(back.out()).toBe(hosts);
  });

  test.each([
    [['--hosts-file', '-', '--ip', 'nope', '--host', 'a.example.com'], 'not an IP address'],
    [
      ['--hosts-file', '-', '--ip', '10.0.0.1', '--host', 'a.example.com evil.com'],
      'not a valid DNS name',
    ],
    [['--hosts-file', '-', '--ip', '10.0.0.1', '--host', 'localhost.localdomain'], 'loopback'],
    [['--ip', '10.0.0.1'], '--hosts-file FILE|- is required'],
    [['--hosts-file', '/nonexistent/hosts', '--ip', '10.0.0.1'], 'ENOENT'],
  ])('bad input %j: exit 2, message, nothing on stdout', async (args, message) => {
    const io = captureIO(hosts);
    expect(await runRender(args, io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain(message);
  });
});

test('the cluster domain follows the one rule: resolv.conf when no flag', async () => {
  const args = ['--hosts-file', '-', '--ip', '10.96.0.50', '--host', 'api.svc.corp.local'];
  const resolv = () => 'search default.svc.corp.local svc.corp.local corp.local\n';
  const io = { ...captureIO(hosts), readResolvConf: resolv };
  expect(await runRender(args, io)).toBe(2);
  expect(io.err()).toContain('under the cluster domain corp.local');
  const plain = captureIO(hosts);
  expect(await runRender(args, plain)).toBe(0);
});
