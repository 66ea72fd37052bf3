// The Corefile as the API serves it (a Unicode string in JSON) and tenant hosts that are
// not plain names, end to end through the fake API server.
import { afterEach, expect, test } from 'vitest';
import {
  corednsConfigMap,
  hostsBlockLines,
  relayService,
  startHarness,
  waitFor,
  type Harness,
} from './harness.ts';

let running: Harness | undefined;
afterEach(async () => await running?.stop());

test('non-ASCII in the ConfigMap comes back as it was; odd hosts are refused, not stringified', async () => {
  const h = (running = await startHarness());
  const corefile =
    '# caf\u00e9 \u2615 \u{1f600} \u00a0\n.:53 {\n    errors # \u00e9t\u00e9\n    forward . /etc/resolv.conf\n}\n';
  h.fake.create(corednsConfigMap(corefile));
  h.fake.create(relayService());
  h.fake.create({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'odd', namespace: 'shop' },
    spec: {
      tls: [{ hosts: [['a.example.com']] }],
      rules: [{ host: 42 }, { host: '5.0.96.10.in-addr.arpa' }, { host: 'shop.example.com' }],
    },
  });
  await waitFor(() => h.managed().includes('shop.example.com'));
  expect(h.managed()).toEqual(['shop.example.com']);
  expect(h.corefile()).toBe(
    `# caf\u00e9 \u2615 \u{1f600} \u00a0\n.:53 {\n${hostsBlockLines('    ', ['shop.example.com']).join('\n')}\n    errors # \u00e9t\u00e9\n    forward . /etc/resolv.conf\n}\n`,
  );
  await waitFor(() => h.metric('hairpin_dns_rejected_hosts_total{reason="not_a_string"} 2'));
  expect(await h.metric('hairpin_dns_rejected_hosts_total{reason="reverse_zone"} 1')).toBe(true);
  await waitFor(() => h.published()?.['hosts'] === 'shop.example.com\n');

  h.fake.delete('networking.k8s.io/v1', 'Ingress', 'shop', 'odd');
  await waitFor(() => h.corefile() === corefile, 10_000);
});
