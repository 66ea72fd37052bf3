// CoreDNS is the judge of every Corefile edit: for each corpus Corefile hairpin can edit, a
// real CoreDNS is started on the original, on the edited file and on the file with the
// hosts removed again, and asked the same questions each time. Managed names (exact,
// wildcard, mixed case) must answer the relay's address under the name asked, with a TTL of
// at most 30 s and no address of the other family; every other name (public, subnames,
// cluster Services, reverse) must answer exactly as before; after removal, everything as
// before. The same for the import mode (k3s's coredns-custom `*.override` glob) and for
// node-local-dns in front of a cluster CoreDNS.
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  corefiles,
  describeWithCoreDNS,
  isRunnableCorpusFile,
  prepareCorefile,
  prepareCorpusCorefile,
  startCoreDNS,
  startStubUpstream,
  type CorpusFile,
  type DnsAnswer,
  type RunningCoreDNS,
  type StubUpstream,
} from '@hairpin/testing';
import { applyCorefileHosts, renderCorefileOverride } from '../src/index.ts';

const RELAY_FQDN = 'hairpin-relay.hairpin.svc.cluster.local';
const RELAY_IP = '10.96.7.7';
const RELAY_IP6 = 'fd00:10:96::7';
const MANAGED = ['shop.example.com', '*.apps.example.com'];
const options = { target: RELAY_FQDN, relayIPs: [RELAY_IP] };

interface Question {
  readonly name: string;
  readonly type: string;
}
const q = (name: string, type = 'A'): Question => ({ name, type });

/** Names hairpin manages, and what each must answer after the edit. */
const MANAGED_QUESTIONS: readonly Question[] = [
  q('shop.example.com'),
  q('Shop.Example.COM'),
  q('x.apps.example.com'),
  q('X.Apps.Example.Com'),
];
/**
 * The same names' other family: NOERROR with no address (single-stack relay), so no
 * client falls back to a public IPv6 address.
 */
const MANAGED_AAAA: readonly Question[] = [
  q('shop.example.com', 'AAAA'),
  q('x.apps.example.com', 'AAAA'),
];
/** Everything else: exactly as before, during and after. */
const OTHER_QUESTIONS: readonly Question[] = [
  q('api.example.com'),
  q('www.example.org'),
  q('apps.example.com'),
  q('a.b.apps.example.com'),
  q('www.shop.example.com'),
  q('shop.example.net'),
  q('kube-dns.kube-system.svc.cluster.local'),
  q('hairpin-relay.hairpin.svc.cluster.local'),
  q('7.7.96.10.in-addr.arpa', 'PTR'),
  q('localhost'),
];

/**
 * Questions a file cannot answer even before any edit (CoreDNS 1.10 gives no answer), so
 * they judge nothing there.
 */
const UNANSWERED: Readonly<
  Record<string, { readonly names: readonly string[]; readonly why: string }>
> = {
  'corefiles/synthetic/rewrite-all-forms.Corefile': {
    names: ['kube-dns.kube-system.svc.cluster.local', 'hairpin-relay.hairpin.svc.cluster.local'],
    why: 'its `rewrite name regex (.*)\\.svc\\.cluster\\.local ... answer value` makes CoreDNS 1.10 drop the answer: no reply at all',
  },
};

/** An answer as compared: rcode and records, names lower-cased, TTLs left out. */
function shape(a: DnsAnswer): string {
  const records = a.answers
    .map((r) => `${r.name.toLowerCase()} ${r.type} ${r.data}`)
    .sort()
    .join(', ');
  return `${a.rcode} [${records}]`;
}

async function ask(dns: RunningCoreDNS, questions: readonly Question[]): Promise<string[]> {
  const out: string[] = [];
  for (const { name, type } of questions) out.push(shape(await dns.query(name, type)));
  return out;
}

/**
 * A managed name's answer: the relay's address, under the name asked (CoreDNS's `hosts`
 * and `template` answer in lower case; DNS names compare without case), TTL <= 30 s.
 */
function expectRelay(a: DnsAnswer, question: Question, address: string): void {
  expect(a.rcode, `${question.name} ${question.type}`).toBe('NOERROR');
  expect(a.answers.map((r) => [r.name.toLowerCase(), r.type, r.data])).toEqual([
    [`${question.name.toLowerCase()}.`, question.type, address],
  ]);
  expect(a.answers[0]!.ttl).toBeLessThanOrEqual(30);
}

/** Corefiles hairpin edits, that CoreDNS can run, whose root block answers on -dns.port. */
function judged(): CorpusFile[] {
  return corefiles().filter((f) => {
    if (!isRunnableCorpusFile(f.name)) return false;
    try {
      applyCorefileHosts(f.text, MANAGED, options);
      return true;
    } catch {
      return false; // Refused edits are tested in corefile.test.ts: never written.
    }
  });
}

describeWithCoreDNS('CoreDNS judges every edit of the corpus', () => {
  let upstream: StubUpstream;
  beforeAll(async () => {
    upstream = await startStubUpstream();
  });
  afterAll(async () => {
    await upstream?.stop();
  });

  const files = judged();
  test('most of the corpus is judged', () => {
    expect(files.length).toBeGreaterThanOrEqual(24);
  });

  test.each(files.map((f) => [f.name, f] as const))('%s', async (name, file) => {
    const unanswered = new Set(UNANSWERED[name]?.names ?? []);
    const others = OTHER_QUESTIONS.filter((x) => !unanswered.has(x.name));
    const run = (text: string) =>
      prepareCorpusCorefile({ ...file, text }, { upstream: upstream.address });
    const edited = applyCorefileHosts(file.text, MANAGED, options);
    const removed = applyCorefileHosts(edited, [], options);
    const dns = await startCoreDNS({ corefile: run(file.text) });
    try {
      const before = await ask(dns, others);
      const managedBefore = await ask(dns, [...MANAGED_QUESTIONS, ...MANAGED_AAAA]);

      await dns.reload(run(edited));
      for (const question of MANAGED_QUESTIONS) {
        expectRelay(await dns.query(question.name, question.type), question, RELAY_IP);
      }
      for (const question of MANAGED_AAAA) {
        const a = await dns.query(question.name, question.type);
        expect([a.rcode, a.answers], `${question.name} ${question.type}`).toEqual(['NOERROR', []]);
      }
      expect(await ask(dns, others)).toEqual(before);

      await dns.reload(run(removed));
      expect(await ask(dns, others)).toEqual(before);
      expect(await ask(dns, [...MANAGED_QUESTIONS, ...MANAGED_AAAA])).toEqual(managedBefore);
    } finally {
      await dns.stop();
    }
  });

  test('dual-stack: AAAA answers the relay too', async () => {
    const kubeadm = corefiles().find((f) => f.name === 'corefiles/kubeadm-latest.Corefile')!;
    const edited = applyCorefileHosts(kubeadm.text, MANAGED, {
      target: RELAY_FQDN,
      relayIPs: [RELAY_IP, RELAY_IP6],
    });
    const dns = await startCoreDNS({
      corefile: prepareCorefile(edited, { upstream: upstream.address }),
    });
    try {
      for (const question of MANAGED_QUESTIONS) {
        expectRelay(await dns.query(question.name, 'A'), question, RELAY_IP);
        expectRelay(
          await dns.query(question.name, 'AAAA'),
          { ...question, type: 'AAAA' },
          RELAY_IP6,
        );
      }
      // An exact name in the hosts block: other types are NOERROR with no record.
      const mx = await dns.query('shop.example.com', 'MX');
      expect([mx.rcode, mx.answers]).toEqual(['NOERROR', []]);
    } finally {
      await dns.stop();
    }
  });

  test("import mode: k3s's *.override glob loads hairpin's templates into its root block; nothing else changes", async () => {
    const k3s = corefiles().find((f) => f.name === 'corefiles/k3s.Corefile')!;
    const files = { NodeHosts: '10.0.0.9 node-1\n', 'custom/log.override': 'log\n' };
    const questions = [...OTHER_QUESTIONS, q('node-1')];
    const corefile = prepareCorefile(k3s.text, { upstream: upstream.address });
    const dns = await startCoreDNS({ corefile, files });
    try {
      const before = await ask(dns, questions);
      expect(before.at(-1)).toBe('NOERROR [node-1. A 10.0.0.9]');
      dns.writeFile('custom/hairpin.override', renderCorefileOverride(MANAGED, options));
      await dns.reload();
      for (const question of MANAGED_QUESTIONS) {
        expectRelay(await dns.query(question.name, question.type), question, RELAY_IP);
      }
      for (const question of MANAGED_AAAA) {
        const a = await dns.query(question.name, question.type);
        expect([a.rcode, a.answers]).toEqual(['NOERROR', []]);
      }
      expect(await ask(dns, questions)).toEqual(before);
      dns.writeFile('custom/hairpin.override', renderCorefileOverride([], options));
      await dns.reload();
      expect(await ask(dns, questions)).toEqual(before);
    } finally {
      await dns.stop();
    }
  });

  test('node-local-dns in front of the cluster CoreDNS: managed names answer the relay, nothing else changes', async () => {
    const cluster = await startCoreDNS({
      corefile: prepareCorefile(
        corefiles().find((f) => f.name === 'corefiles/kubeadm-latest.Corefile')!.text,
        { upstream: upstream.address },
      ),
    });
    const nodeLocal = corefiles().find(
      (f) => f.name === 'corefiles/nodelocaldns.template.Corefile',
    )!;
    // node-cache forwards cluster zones to kube-dns over TCP, the rest to the node's upstreams.
    const run = (text: string) =>
      prepareCorefile(text, {
        upstream: (site) =>
          site.zones.some((z) => z !== '.') ? `127.0.0.1:${cluster.port}` : upstream.address,
      });
    const dns = await startCoreDNS({ corefile: run(nodeLocal.text) });
    try {
      const before = await ask(dns, OTHER_QUESTIONS);
      expect(before[OTHER_QUESTIONS.findIndex((x) => x.name.startsWith('kube-dns'))]).toBe(
        'NOERROR [kube-dns.kube-system.svc.cluster.local. A 10.96.0.10]',
      );
      await dns.reload(run(applyCorefileHosts(nodeLocal.text, MANAGED, options)));
      for (const question of MANAGED_QUESTIONS) {
        expectRelay(await dns.query(question.name, question.type), question, RELAY_IP);
      }
      expect(await ask(dns, OTHER_QUESTIONS)).toEqual(before);
    } finally {
      await dns.stop();
      await cluster.stop();
    }
  });
});
