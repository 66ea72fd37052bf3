import { describe, expect, test } from 'vitest';
import { prepareCorefile } from './coredns-prepare.ts';

const upstream = '127.0.0.1:5300';

describe('prepareCorefile', () => {
  test('a kubeadm-style block: port dropped, bind first, forward to the stub, listeners on loopback', () => {
    const input = [
      '.:53 {',
      '    errors',
      '    health {',
      '       lameduck 5s',
      '    }',
      '    ready',
      '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
      '       fallthrough in-addr.arpa ip6.arpa',
      '    }',
      '    prometheus :9153',
      '    forward . /etc/resolv.conf {',
      '       max_concurrent 1000',
      '    }',
      '    cache 30',
      '}',
      '',
    ].join('\n');
    expect(prepareCorefile(input, { upstream })).toBe(
      [
        '. {',
        '    bind 127.0.0.1',
        '    errors',
        '    health 127.0.0.1:0 {',
        '       lameduck 5s',
        '    }',
        '    ready 127.0.0.1:0',
        '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
        '       fallthrough in-addr.arpa ip6.arpa',
        '    }',
        '    prometheus 127.0.0.1:0',
        '    forward . 127.0.0.1:5300 {',
        '       max_concurrent 1000',
        '    }',
        '    cache 30',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('CRLF, tabs and a file without a final newline keep their bytes', () => {
    const input = '.:53 {\r\n\terrors\r\n\tforward . 1.1.1.1 8.8.8.8\r\n}';
    expect(prepareCorefile(input, { upstream })).toBe(
      '. {\r\n\tbind 127.0.0.1\r\n\terrors\r\n\tforward . 127.0.0.1:5300\r\n}',
    );
  });

  test('node-local-dns: PILLAR placeholders, its bind lines replaced, upstream chosen by zone', () => {
    const input = [
      '__PILLAR__DNS__DOMAIN__:53 {',
      '    bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__',
      '    forward . __PILLAR__CLUSTER__DNS__ {',
      '            force_tcp',
      '    }',
      '    health __PILLAR__LOCAL__DNS__:8080',
      '    }',
      '.:53 {',
      '    bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__',
      '    forward . __PILLAR__UPSTREAM__SERVERS__',
      '    }',
      '',
    ].join('\n');
    const seen: unknown[] = [];
    const out = prepareCorefile(input, {
      upstream: (site) => {
        seen.push(site);
        return site.zones.includes('cluster.local') ? '127.0.0.1:7000' : upstream;
      },
    });
    expect(out).toBe(
      [
        'cluster.local {',
        '    bind 127.0.0.1',
        '    forward . 127.0.0.1:7000 {',
        '            force_tcp',
        '    }',
        '    health 127.0.0.1:0',
        '    }',
        '. {',
        '    bind 127.0.0.1',
        '    forward . 127.0.0.1:5300',
        '    }',
        '',
      ].join('\n'),
    );
    expect(seen).toEqual([
      { zones: ['cluster.local'], from: '.', to: ['10.96.0.11'] },
      { zones: ['.'], from: '.', to: ['/etc/resolv.conf'] },
    ]);
  });

  test('the DNS port is the root zone’s; other ports stay or move; /etc/coredns/ paths become relative', () => {
    const input = [
      'foo.com:5353 example.io:1053 {',
      '    forward . tls://1.1.1.1 {',
      '        tls_servername dns.foo.com',
      '        tls /etc/pki/ca.crt',
      '        policy round_robin',
      '    }',
      '}',
      '.:5353 {',
      '    hosts /etc/coredns/NodeHosts {',
      '      fallthrough',
      '    }',
      '    import /etc/coredns/custom/*.override',
      '}',
      'import /etc/coredns/custom/*.server',
      '',
    ].join('\n');
    expect(prepareCorefile(input, { upstream, ports: { 1053: 20053 } })).toBe(
      [
        'foo.com example.io:20053 {',
        '    bind 127.0.0.1',
        '    forward . 127.0.0.1:5300 {',
        '        policy round_robin',
        '    }',
        '}',
        '. {',
        '    bind 127.0.0.1',
        '    hosts NodeHosts {',
        '      fallthrough',
        '    }',
        '    import custom/*.override',
        '}',
        'import custom/*.server',
        '',
      ].join('\n'),
    );
  });

  test('template rendering, then {$ENV} and {%ENV%} as CoreDNS expands them (unset: empty)', () => {
    const input =
      '.:{$DNS_PORT} {\n    kubernetes %{CLUSTER_DOMAIN}%\n    hosts {\n        {%IP%} a{$UNSET}.example\n    }\n}\n';
    expect(
      prepareCorefile(input, {
        upstream,
        render: [['%{CLUSTER_DOMAIN}%', 'cluster.local']],
        env: { DNS_PORT: '53', IP: '10.0.0.5' },
      }),
    ).toBe(
      '. {\n    bind 127.0.0.1\n    kubernetes cluster.local\n    hosts {\n        10.0.0.5 a.example\n    }\n}\n',
    );
  });

  test('snippets: directives inside are prepared, the snippet gets no bind', () => {
    const input = '(common) {\n    forward . 8.8.8.8\n}\n. {\n    import common\n}\n';
    expect(prepareCorefile(input, { upstream })).toBe(
      '(common) {\n    forward . 127.0.0.1:5300\n}\n. {\n    bind 127.0.0.1\n    import common\n}\n',
    );
  });

  test('a file without server blocks comes back as is', () => {
    expect(prepareCorefile('# only a comment\n', { upstream })).toBe('# only a comment\n');
    expect(prepareCorefile('', { upstream })).toBe('');
  });
});
