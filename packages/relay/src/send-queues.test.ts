import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseTcpTable, readSendQueues, sendQueueKey } from './send-queues.ts';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 151919 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:ADCE 01 0034A000:00000000 01:00000014 00000000  1000        0 151920 1 0 20 4 30 10 -1
   2: 0100007F:C350 0100007F:0050 01 00000000:00001000 00:00000000 00000000  1000        0 151921 1 0 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:ADCE 01 00000010:00000000 00:00000000 00000000  1000        0 2 1 0 20 4 30 10 -1
   1: 00000000000000000000000001000000:1F91 00000000000000000000000001000000:9C40 01 00000200:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1
`;

test('parseTcpTable: unacknowledged bytes by port pair; a pair seen twice is ambiguous', () => {
  const out = new Map<number, number>();
  parseTcpTable(TCP, out);
  expect(out.get(sendQueueKey(8080, 0))).toBe(0);
  expect(out.get(sendQueueKey(8080, 0xadce))).toBe(0x34a000);
  expect(out.get(sendQueueKey(0xc350, 80))).toBe(0);
  parseTcpTable(TCP6, out);
  // 8080 <-> 0xADCE exists over IPv4 and IPv6: no answer rather than a wrong one.
  expect(out.get(sendQueueKey(8080, 0xadce))).toBeNaN();
  expect(out.get(sendQueueKey(8081, 40000))).toBe(0x200);
  expect(out.size).toBe(4);
});

test('readSendQueues reads the files it is given and skips missing ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-tcp-'));
  try {
    writeFileSync(join(dir, 'tcp'), TCP);
    const out = readSendQueues([join(dir, 'tcp'), join(dir, 'missing')]);
    expect(out.get(sendQueueKey(8080, 0xadce))).toBe(0x34a000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
