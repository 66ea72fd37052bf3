// Every corpus Corefile, made runnable (CORPUS_RUNS + prepareCorefile), starts in the real
// CoreDNS and answers before any edit: a public name through the stub upstream and, where the
// file has a `kubernetes` plugin, a cluster Service. Files that answer otherwise (whoami-only
// servers, zones other than the root) say what they answer below; unrunnable and invalid
// files are listed with what CoreDNS says about them. Nothing is skipped silently.
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  CORPUS_RUNS,
  corefiles,
  describeWithCoreDNS,
  isRunnableCorpusFile,
  prepareCorefile,
  prepareCorpusCorefile,
  startCoreDNS,
  startStubUpstream,
  type DnsAnswer,
  type RunningCoreDNS,
  type StubUpstream,
} from '../src/index.ts';

interface Probe {
  readonly name: string;
  readonly type?: string;
  readonly check: (answer: DnsAnswer) => void;
}

const address = (data: string) => (a: DnsAnswer) => {
  expect(a.rcode).toBe('NOERROR');
  expect(a.answers.map((r) => r.data)).toEqual([data]);
};
// whoami puts the client's address in the additional section.
const whoami = (a: DnsAnswer) => {
  expect(a.rcode).toBe('NOERROR');
  expect(a.additional.find((r) => r.type === 'A')?.data).toBe('127.0.0.1');
};
const PUBLIC: Probe = { name: 'shop.example.com', check: address('192.0.2.10') };
const CLUSTER: Probe = {
  name: 'kube-dns.kube-system.svc.cluster.local',
  check: address('10.96.0.10'),
};
const WHOAMI: Probe = { name: 'shop.example.com', check: whoami };

/** What a file answers instead of (or besides) PUBLIC and, with `kubernetes`, CLUSTER. */
const PROBES: Readonly<Record<string, readonly Probe[]>> = {
  // whoami only (an empty or comment-only Corefile is CoreDNS's default: whoami).
  'corefiles/coredns-deployment-debian.Corefile': [WHOAMI],
  'corefiles/coredns-deployment-redhat.Corefile': [WHOAMI],
  'corefiles/coredns-man-corefile5-snippet.Corefile': [WHOAMI],
  'corefiles/synthetic/empty.Corefile': [WHOAMI],
  'corefiles/synthetic/only-comments.Corefile': [WHOAMI],
  // Zones other than the root: a public name is REFUSED, a name in the zones answers.
  'corefiles/coredns-man-corefile5-reverse-cidr.Corefile': [
    { name: '5.0.0.10.in-addr.arpa', type: 'PTR', check: whoami },
    { name: 'shop.example.com', check: (a) => expect(a.rcode).toBe('REFUSED') },
  ],
  'corefiles/coredns-man-corefile5-two-servers.Corefile': [
    { name: 'www.example.org', check: whoami },
    { name: 'shop.example.com', check: (a) => expect(a.rcode).toBe('REFUSED') },
  ],
  'corefiles/synthetic/comments-everywhere.Corefile': [
    { name: 'www.example.org', check: whoami },
    { name: 'shop.example.com', check: (a) => expect(a.rcode).toBe('REFUSED') },
  ],
  // Starts, but answers nothing: `forward .<NBSP>` makes the NBSP part of forward's zone, so
  // it serves no real name, and the hosts entry bücher.example cannot be asked over the wire
  // (CoreDNS reads the question's UTF-8 bytes as \195\188, not as ü).
  'corefiles/synthetic/bom-and-unicode.Corefile': [
    {
      name: 'bücher.example',
      check: (a) => expect([a.rcode, a.answers]).toEqual(['NXDOMAIN', []]),
    },
    {
      name: 'shop.example.com',
      check: (a) => expect([a.rcode, a.answers]).toEqual(['NXDOMAIN', []]),
    },
  ],
  'corefiles/synthetic/hosts-variants.Corefile': [
    PUBLIC,
    { name: 'a.example.org', check: address('10.0.0.1') },
  ],
  'corefiles/synthetic/env-placeholders.Corefile': [
    PUBLIC,
    { name: 'node.example.org', check: address('10.0.0.5') },
  ],
};

/** What CoreDNS says when given each unrunnable or invalid file (prepared, rendered). */
const REFUSALS: Readonly<Record<string, RegExp>> = {
  'corefiles/aks-engine-legacy.template.Corefile': /Unknown directive 'proxy'/,
  'corefiles/openshift-dns-operator.default_corefile_ocp_dnsnameresolver.Corefile':
    /Unknown directive 'ocp_dnsnameresolver'/,
  'corefiles/kubespray-docs-example.rendered.Corefile':
    /cache TTL can not be zero|name rule supports only/,
  'corefiles/synthetic/invalid-brace-glued.Corefile': /Error during parsing/,
  'corefiles/synthetic/invalid-oneline-server-block.Corefile': /Error during parsing|Unexpected/,
  'corefiles/synthetic/invalid-unclosed-brace.Corefile': /Error during parsing/,
};

const files = corefiles();

test('every corpus Corefile is accounted for: runnable, unrunnable with a reason, or invalid', () => {
  for (const name of Object.keys({ ...CORPUS_RUNS, ...PROBES, ...REFUSALS })) {
    expect(files.map((f) => f.name)).toContain(name);
  }
  for (const f of files) {
    const refused = !isRunnableCorpusFile(f.name);
    expect(REFUSALS[f.name] !== undefined, `${f.name}: listed in REFUSALS`).toBe(refused);
  }
});

describeWithCoreDNS('each corpus Corefile in the real CoreDNS', () => {
  let stub: StubUpstream;
  let kubeDns: RunningCoreDNS | undefined;
  const running = new Set<RunningCoreDNS>();
  beforeAll(async () => {
    stub = await startStubUpstream();
  });
  afterAll(async () => {
    for (const c of running) await c.stop();
    await kubeDns?.stop();
    await stub?.stop();
  });

  const runnable = files.filter((f) => REFUSALS[f.name] === undefined);
  test.for(runnable)('$name starts and answers', async (file) => {
    const corefile = prepareCorpusCorefile(file, { upstream: stub.address });
    const c = await startCoreDNS({ corefile });
    running.add(c);
    try {
      const probes = PROBES[file.name] ?? [
        PUBLIC,
        ...(/^\s*kubernetes\s/m.test(corefile) ? [CLUSTER] : []),
      ];
      for (const p of probes) p.check(await c.query(p.name, p.type ?? 'A'));
    } finally {
      running.delete(c);
      await c.stop();
    }
  });

  test('node-local-dns in front of a cluster CoreDNS answers cluster and public names', async () => {
    const kubeadm = files.find((f) => f.name === 'corefiles/kubeadm-latest.Corefile');
    const nodelocal = files.find((f) => f.name === 'corefiles/nodelocaldns.template.Corefile');
    kubeDns = await startCoreDNS({
      corefile: prepareCorpusCorefile(kubeadm!, { upstream: stub.address }),
    });
    const clusterDns = `127.0.0.1:${kubeDns.port}`;
    const corefile = prepareCorpusCorefile(nodelocal!, {
      // __PILLAR__CLUSTER__DNS__ (kube-dns-upstream) is the cluster CoreDNS; the rest the stub.
      upstream: (site) => (site.to.includes('10.96.0.11') ? clusterDns : stub.address),
    });
    const c = await startCoreDNS({ corefile });
    running.add(c);
    // force_tcp: node-local-dns asks the cluster CoreDNS over TCP.
    address('10.96.0.10')(await c.query(CLUSTER.name));
    address('192.0.2.10')(await c.query(PUBLIC.name));
    const ptr = await c.query('10.0.96.10.in-addr.arpa', 'PTR');
    expect(ptr.answers.map((r) => r.data)).toEqual(['kube-dns.kube-system.svc.cluster.local.']);
  });

  test.for(files.filter((f) => REFUSALS[f.name] !== undefined))(
    '$name: CoreDNS refuses it, as listed',
    async (file) => {
      const run = CORPUS_RUNS[file.name];
      const corefile = prepareCorefile(file.text, {
        upstream: stub.address,
        ...(run?.render === undefined ? {} : { render: run.render }),
      });
      await expect(startCoreDNS({ corefile }).then((c) => c.stop())).rejects.toThrow(
        REFUSALS[file.name]!,
      );
    },
  );
});
