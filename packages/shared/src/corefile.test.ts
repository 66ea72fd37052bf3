import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { corefileOracle, corefiles, corpusDir } from '@hairpin/testing';
import {
  applyCorefileHosts,
  CorefileParseMemo,
  corefileReloads,
  findRootBlock,
  managedCorefileHosts,
  parseCorefile,
  renderCorefileOverride,
  tokenizeCorefile,
} from './corefile.ts';
import { HairpinError } from './errors.ts';
import { bytesFromText, textFromBytes } from './file-bytes.ts';

const target = 'hairpin-relay.hairpin.svc.cluster.local';
const IP = '10.96.0.50';
const opts = { target, relayIPs: [IP] };
const M = '# managed by hairpin';
/** The managed hosts block for exact names, as its lines (one entry line: few names). */
const hostsLines = (indent: string, names: string[], step = '    ') => [
  `${indent}hosts /dev/null { ${M}`,
  `${indent}${step}${IP} ${names.join(' ')} ${M}`,
  `${indent}${step}ttl 30 ${M}`,
  `${indent}${step}no_reverse ${M}`,
  `${indent}${step}fallthrough ${M}`,
  `${indent}} ${M}`,
];
const hostsText = (indent: string, names: string[], eol = '\n', step = '    ') =>
  hostsLines(indent, names, step).join(eol);

/** A Corefile as bytes (a file given to render), edited as render edits it. */
function applyToBytes(bytes: Uint8Array, hosts: readonly string[]): Buffer {
  return bytesFromText(applyCorefileHosts(textFromBytes(bytes), hosts, opts));
}

/**
 * The block that holds the managed lines: the root block, or a stub domain's block that
 * CoreDNS hands the names to (openshift's `example.com:5353`).
 */
function servingBlock(text: string) {
  const parsed = parseCorefile(text);
  const block = parsed.blocks.find((b) =>
    b.directives.some(
      (d) => d.name === 'template' && d.tokens.some((t) => t.text.includes('apps\\.example')),
    ),
  );
  expect(block).toBeDefined();
  if (block !== findRootBlock(parsed)) {
    expect(block!.keys.some((k) => /(^|\/\/)example\.com\.?(:\d+)?$/.test(k))).toBe(true);
  }
  return block!;
}

function refusal(fn: () => unknown): HairpinError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HairpinError) return err;
    throw err;
  }
  throw new Error('expected a HairpinError');
}

const all = corefiles();
const editable = all.filter((f) => {
  try {
    applyCorefileHosts(f.text, ['shop.example.com'], opts);
    return true;
  } catch {
    return false;
  }
});

test('most of the corpus is editable (a regression guard on the parser)', () => {
  expect(editable.length).toBeGreaterThanOrEqual(28);
});

describe.each(editable.map((f) => [f.name, f.text] as const))('%s', (name, original) => {
  const hosts = ['shop.example.com', 'api.example.com', '*.apps.example.com'];
  const edited = applyCorefileHosts(original, hosts, opts);

  test('adds the hosts and the wildcards right after the serving block opens, and nothing else', () => {
    expect(managedCorefileHosts(edited, opts)).toEqual([...hosts].sort());
    const root = servingBlock(edited);
    // A block with a `hosts` of the owner's (CoreDNS allows one) gets templates only.
    const ownersHosts = root.directives.some(
      (d) =>
        d.name === 'hosts' &&
        !/managed by hairpin/.test(
          edited.slice(d.tokens[0]!.start, edited.indexOf('\n', d.tokens[0]!.start)),
        ),
    );
    const first = root.directives
      .slice(0, ownersHosts ? 2 : 3)
      .map((d) => d.tokens.map((t) => t.text));
    const exactMatch = ownersHosts
      ? ['match', '^(?:api\\.example\\.com|shop\\.example\\.com)\\.$']
      : [];
    const template = (type: string, last: string[]) => [
      'template',
      'IN',
      type,
      '{',
      ...exactMatch,
      'match',
      '^[^.]+\\.(?:apps\\.example\\.com)\\.$',
      ...last,
      'fallthrough',
      '}',
    ];
    expect(first).toEqual([
      ...(ownersHosts
        ? []
        : [
            [
              'hosts',
              '/dev/null',
              '{',
              IP,
              'api.example.com',
              'shop.example.com',
              'ttl',
              '30',
              'no_reverse',
              'fallthrough',
              '}',
            ],
          ]),
      template('A', ['answer', `{{ .Name }} 30 IN A ${IP}`]),
      template('AAAA', ['rcode', 'NOERROR']),
    ]);
    if (!ownersHosts)
      expect(edited).toMatch(
        new RegExp(
          `\\n[ \\t]+${IP.replaceAll('.', '\\.')} api\\.example\\.com shop\\.example\\.com ${M}\\r?\\n`,
        ),
      );
    // Every original line is still there, in order.
    const legacy = /# Added by hairpin-proxy/;
    const kept = original.split('\n').filter((l) => !legacy.test(l));
    const editedLines = edited.split('\n');
    let at = 0;
    for (const line of kept.slice(0, -1)) {
      at = editedLines.indexOf(line, at);
      expect(at).toBeGreaterThanOrEqual(0);
      at++;
    }
  });

  test('keeps the file line ending on the new lines', () => {
    if (original.includes('\r\n')) {
      expect(edited).toContain(`api.example.com shop.example.com ${M}\r\n`);
    } else {
      expect(edited).not.toContain('\r');
    }
  });

  test('is idempotent', () => {
    expect(applyCorefileHosts(edited, hosts, opts)).toBe(edited);
  });

  test('removing every host restores the original bytes', () => {
    const restored = applyCorefileHosts(edited, [], opts);
    const withoutLegacy = applyCorefileHosts(original, [], opts);
    expect(restored).toBe(withoutLegacy);
    if (!/# Added by hairpin-proxy/.test(original)) {
      expect(withoutLegacy).toBe(original);
    }
  });

  test('add then remove gives back the original bytes', () => {
    const bytes = readFileSync(`${corpusDir}${name}`);
    const once = applyToBytes(bytes, hosts);
    expect(applyToBytes(once, hosts).equals(once)).toBe(true);
    expect(applyToBytes(once, []).equals(applyToBytes(bytes, []))).toBe(true);
    if (!/# Added by hairpin-proxy/.test(original)) {
      expect(applyToBytes(once, []).equals(bytes)).toBe(true);
    }
  });

  test('indents like the block', () => {
    const line = edited.split(/\r?\n/).find((l) => l.includes('template IN A {'))!;
    const indent = /^[ \t]*/.exec(line)![0];
    const root = servingBlock(edited);
    const other = root.directives.find(
      (d) => !['rewrite', 'hosts', 'template'].includes(d.name) && !d.tokens[0]!.imported,
    );
    if (other !== undefined) {
      const otherLine = edited.slice(0, other.tokens[0]!.start).split('\n').pop()!;
      expect(indent).toBe(/^[ \t]*/.exec(otherLine)![0]);
    } else {
      expect(indent.length).toBeGreaterThan(0);
    }
  });
});

describe('the rest of the corpus is refused with a clear error, nothing returned', () => {
  const refused = all.filter((f) => !editable.includes(f));
  test.each(refused.map((f) => [f.name, f.text] as const))('%s', (_name, text) => {
    const err = refusal(() => applyCorefileHosts(text, ['shop.example.com'], opts));
    expect(err.code).toMatch(/^HAIRPIN_COREFILE_/);
    expect(err.message.length).toBeGreaterThan(10);
  });

  test('files CoreDNS refuses are refused naming the line', () => {
    for (const f of refused) {
      if (corefileOracle(f.name).parse.ok) continue;
      const err = refusal(() => applyCorefileHosts(f.text, [], opts));
      expect(err.code).toBe('HAIRPIN_COREFILE_PARSE');
      expect(err.message).toMatch(/^Corefile:\d+ - /);
    }
  });
});

describe('recognition, migration and placement', () => {
  test('legacy hairpin-proxy lines are removed, ours added', () => {
    const legacy =
      '.:53 {\n    rewrite name foo.example.com hairpin-proxy.hairpin-proxy.svc.cluster.local # Added by hairpin-proxy\n    errors\n}';
    expect(applyCorefileHosts(legacy, ['foo.example.com'], opts)).toBe(
      `.:53 {\n${hostsText('    ', ['foo.example.com'])}\n    errors\n}`,
    );
    expect(applyCorefileHosts(legacy, [], opts)).toBe('.:53 {\n    errors\n}');
  });

  test('rules whose comment was stripped (kubeadm migration) are still ours by content', () => {
    const stripped = `.:53 {\n    rewrite name exact b.example.com ${target}.\n    rewrite name a.example.com ${target}\n    errors\n}\n`;
    expect(managedCorefileHosts(stripped, opts)).toEqual(['a.example.com', 'b.example.com']);
    expect(applyCorefileHosts(stripped, ['c.example.com'], opts)).toBe(
      `.:53 {\n${hostsText('    ', ['c.example.com'])}\n    errors\n}\n`,
    );
  });

  test('other rewrite rules are left alone', () => {
    const other =
      '. {\n  rewrite name exact a.example.com other.svc.cluster.local\n  forward . 1.1.1.1\n}\n';
    const out = applyCorefileHosts(other, ['b.example.com'], opts);
    expect(out).toBe(
      `. {\n${hostsText('  ', ['b.example.com'])}\n  rewrite name exact a.example.com other.svc.cluster.local\n  forward . 1.1.1.1\n}\n`,
    );
  });

  test('the root block is found by normalised key, preferring port 53', () => {
    const two =
      'example.org {\n  whoami\n}\n.:5353 {\n  forward . 8.8.8.8\n}\ndns://.:53 {\n  forward . 1.1.1.1\n}\n';
    const out = applyCorefileHosts(two, ['a.example.com'], opts);
    expect(out).toContain(`dns://.:53 {\n${hostsText('  ', ['a.example.com'])}\n`);
    expect(out.indexOf('a.example.com')).toBe(out.lastIndexOf('a.example.com'));
  });

  test('no root block, or two on port 53: refused', () => {
    expect(
      refusal(() => applyCorefileHosts('example.org {\n whoami\n}\n', ['a.example.com'], opts))
        .code,
    ).toBe('HAIRPIN_COREFILE_NO_ROOT_BLOCK');
    const twice = '.:53 {\n whoami\n}\n. {\n whoami\n}\n';
    expect(refusal(() => applyCorefileHosts(twice, ['a.example.com'], opts)).code).toBe(
      'HAIRPIN_COREFILE_AMBIGUOUS_ROOT',
    );
    expect(
      refusal(() => applyCorefileHosts('tls://.:853 {\n whoami\n}\n', ['a.example.com'], opts))
        .code,
    ).toBe('HAIRPIN_COREFILE_NO_ROOT_BLOCK');
  });

  test('brace on the next line, tabs, CRLF, BOM and no final newline', () => {
    const src = '\uFEFF.\r\n{\r\n\terrors\r\n}';
    const out = applyCorefileHosts(src, ['a.example.com'], opts);
    expect(out).toBe(
      `\uFEFF.\r\n{\r\n${hostsText('\t', ['a.example.com'], '\r\n', '\t')}\r\n\terrors\r\n}`,
    );
    expect(applyCorefileHosts(out, [], opts)).toBe(src);
  });

  test('a file ending on the root block opening line keeps ending without a newline', () => {
    for (const src of [
      '.:53',
      'example.org {\n}\n.',
      'example.org {\r\n}\r\n.',
      '.\r',
      '.:53 \t',
    ]) {
      const once = applyCorefileHosts(src, ['a.example.com', 'b.example.com'], opts);
      const eol = src.includes('\r\n') ? '\r\n' : '\n';
      expect(once).toBe(
        `${src}${eol}${hostsText('    ', ['a.example.com', 'b.example.com'], eol)}`,
      );
      expect(applyCorefileHosts(once, ['a.example.com', 'b.example.com'], opts)).toBe(once);
      const other = applyCorefileHosts(once, ['c.example.com'], opts);
      expect(other).toBe(`${src}${eol}${hostsText('    ', ['c.example.com'], eol)}`);
      expect(applyCorefileHosts(other, ['c.example.com'], opts)).toBe(other);
      expect(applyCorefileHosts(other, [], opts)).toBe(src);
      expect(applyCorefileHosts(once, [], opts)).toBe(src);
    }
  });

  test('bytes that are not UTF-8 survive byte for byte', () => {
    const src = Buffer.from('# caf\xe9 \xff\n. {\n    errors # \xe9t\xe9\n}\n', 'latin1');
    const once = applyToBytes(src, ['a.example.com']);
    expect(once.toString('latin1')).toBe(
      `# caf\xe9 \xff\n. {\n${hostsText('    ', ['a.example.com'])}\n    errors # \xe9t\xe9\n}\n`,
    );
    expect(applyToBytes(once, ['a.example.com']).equals(once)).toBe(true);
    expect(applyToBytes(once, []).equals(src)).toBe(true);
  });

  test('a lone 0xa0 byte is a word character, as CoreDNS reads it; UTF-8 U+00A0 a space', () => {
    const glued = Buffer.from('.\xa0{\n}\n', 'latin1');
    expect(tokenizeCorefile(textFromBytes(glued)).map((t) => t.text)).toEqual(['.\udca0{', '}']);
    const spaced = Buffer.from('.\u00a0{\n}\n', 'utf8');
    expect(tokenizeCorefile(textFromBytes(spaced)).map((t) => t.text)).toEqual(['.', '{', '}']);
  });

  test('a braceless single-server file', () => {
    const src = '.:53\nerrors\nforward . 8.8.8.8\n';
    const out = applyCorefileHosts(src, ['a.example.com'], opts);
    expect(parseCorefile(out).blocks[0]!.directives.map((d) => d.name)).toEqual([
      'hosts',
      'errors',
      'forward',
    ]);
    expect(applyCorefileHosts(out, [], opts)).toBe(src);
  });

  test("a block with the owner's hosts (one per block) gets templates; its hosts stays as it is", () => {
    const src =
      '.:53 {\n    hosts {\n       192.168.49.1 host.minikube.internal\n       fallthrough\n    }\n    forward . /etc/resolv.conf\n}\n';
    const out = applyCorefileHosts(
      src,
      ['b.example.com', 'a.example.com', '*.w.example.com'],
      opts,
    );
    expect(out).toBe(
      [
        '.:53 {',
        `    template IN A { ${M}`,
        `        match ^(?:a\\.example\\.com|b\\.example\\.com)\\.$ ${M}`,
        `        match ^[^.]+\\.(?:w\\.example\\.com)\\.$ ${M}`,
        `        answer "{{ .Name }} 30 IN A ${IP}" ${M}`,
        `        fallthrough ${M}`,
        `    } ${M}`,
        `    template IN AAAA { ${M}`,
        `        match ^(?:a\\.example\\.com|b\\.example\\.com)\\.$ ${M}`,
        `        match ^[^.]+\\.(?:w\\.example\\.com)\\.$ ${M}`,
        `        rcode NOERROR ${M}`,
        `        fallthrough ${M}`,
        `    } ${M}`,
        '    hosts {',
        '       192.168.49.1 host.minikube.internal',
        '       fallthrough',
        '    }',
        '    forward . /etc/resolv.conf',
        '}',
        '',
      ].join('\n'),
    );
    expect(
      applyCorefileHosts(out, ['a.example.com', 'b.example.com', '*.w.example.com'], opts),
    ).toBe(out);
    expect(applyCorefileHosts(out, [], opts)).toBe(src);
    // Its comments stripped, a template of hairpin's form is still ours.
    const stripped = out.replaceAll(` ${M}`, '');
    expect(managedCorefileHosts(stripped, opts)).toEqual([
      '*.w.example.com',
      'a.example.com',
      'b.example.com',
    ]);
    expect(applyCorefileHosts(stripped, [], opts)).toBe(src);
    // Any form of the owner's hosts: one-line, zones, imported from a snippet.
    for (const theirs of [
      '.:53 {\n    hosts /etc/hosts\n}\n',
      '.:53 {\n    hosts /etc/hosts example.org {\n      fallthrough\n    }\n}\n',
      '(h) {\n    hosts {\n      fallthrough\n    }\n}\n.:53 {\n    import h\n}\n',
    ]) {
      const edited = applyCorefileHosts(theirs, ['a.example.com'], opts);
      expect(edited).not.toContain('/dev/null');
      expect(managedCorefileHosts(edited, opts)).toEqual(['a.example.com']);
      expect(applyCorefileHosts(edited, [], opts)).toBe(theirs);
    }
  });

  test('a name under a stub domain goes to the block CoreDNS hands it to', () => {
    const src =
      '.:53 {\n    forward . 8.8.8.8\n}\nexample.com:53 {\n    forward . 10.0.0.1\n}\nexample.org:5353 {\n    forward . 10.0.0.2\n}\n';
    const out = applyCorefileHosts(
      src,
      ['a.example.com', '*.b.example.com', 'c.example.org', 'example.com'],
      opts,
    );
    const blocks = parseCorefile(out).blocks;
    const names = (i: number) =>
      blocks[i]!.directives.flatMap((d) =>
        d.name === 'hosts' ? d.tokens.slice(4, -5).map((t) => t.text) : [],
      );
    // example.org:5353 is another port: its names are asked on 53, in the root block.
    expect(names(0)).toEqual(['c.example.org']);
    expect(names(1)).toEqual(['a.example.com', 'example.com']);
    expect(blocks[1]!.directives.filter((d) => d.name === 'template')).toHaveLength(2);
    expect(blocks[2]!.directives.map((d) => d.name)).toEqual(['forward']);
    expect(applyCorefileHosts(out, [], opts)).toBe(src);
  });

  test('our hosts block with its comments stripped is ours by content', () => {
    const src = '.:53 {\n    errors\n}\n';
    const out = applyCorefileHosts(src, ['a.example.com', '*.b.example.com'], opts);
    const stripped = out.replaceAll(` ${M}`, '');
    expect(managedCorefileHosts(stripped, opts)).toEqual(['*.b.example.com', 'a.example.com']);
    expect(applyCorefileHosts(stripped, [], opts)).toBe(src);
    expect(applyCorefileHosts(stripped, ['a.example.com', '*.b.example.com'], opts)).toBe(out);
  });

  test('dual-stack: both addresses, AAAA answered by the relay too', () => {
    const dual = { target, relayIPs: ['FD00::50', IP] };
    const out = applyCorefileHosts(
      '.:53 {\n    errors\n}\n',
      ['a.example.com', '*.w.example.com'],
      dual,
    );
    expect(out).toContain(
      `        ${IP} a.example.com ${M}\n        fd00::50 a.example.com ${M}\n`,
    );
    expect(out).toContain(`answer "{{ .Name }} 30 IN AAAA fd00::50" ${M}`);
    expect(out).not.toContain('rcode NOERROR');
    expect(applyCorefileHosts(out, [], dual)).toBe('.:53 {\n    errors\n}\n');
  });

  test('hosts cannot be written without the relay address; removal needs none', () => {
    const src = '.:53 {\n    errors\n}\n';
    for (const relayIPs of [[], ['not-an-ip'], ['10.0.0.1', '10.0.0.2']]) {
      expect(
        refusal(() => applyCorefileHosts(src, ['a.example.com'], { target, relayIPs })).code,
      ).toBe('HAIRPIN_INVALID_TARGET');
    }
    const out = applyCorefileHosts(src, ['a.example.com'], opts);
    expect(applyCorefileHosts(out, [], { target })).toBe(src);
  });

  test('capacity: 25,000 hosts of 23 characters fit beside a kubeadm Corefile in 1 MiB - 4 KiB', () => {
    const kubeadm = all.find((f) => f.name === 'corefiles/kubeadm-latest.Corefile')!.text;
    const hosts = Array.from(
      { length: 25_000 },
      (_, i) => `h${String(i).padStart(5, '0')}.shop.example.com`,
    );
    expect(hosts[0]!.length).toBe(23);
    const out = applyCorefileHosts(kubeadm, hosts, opts);
    const bytes = Buffer.byteLength(out) + 'Corefile'.length;
    expect(bytes).toBeLessThanOrEqual(1024 * 1024 - 4096);
    expect((bytes - kubeadm.length) / hosts.length).toBeLessThan(40);
    expect(managedCorefileHosts(out, opts)).toHaveLength(25_000);
    expect(applyCorefileHosts(out, [], opts)).toBe(kubeadm);
  });

  test('reload: present, absent, or unknown behind an import of files', () => {
    expect(corefileReloads('.:53 {\n    errors\n}\nexample.org {\n    reload\n}\n')).toBe('yes');
    expect(corefileReloads('(r) {\n    reload\n}\n.:53 {\n    import r\n}\n')).toBe('yes');
    expect(corefileReloads('.:53 {\n    errors\n}\n')).toBe('no');
    expect(corefileReloads('(s) {\n    errors\n}\n.:53 {\n    import s\n}\n')).toBe('no');
    expect(corefileReloads('.:53 {\n    import custom/*.override\n}\n')).toBe('unknown');
    const yes = all.filter((f) => f.name.endsWith('kubeadm-latest.Corefile'));
    expect(yes.map((f) => corefileReloads(f.text))).toEqual(['yes']);
  });

  test('a directive on the opening line cannot be edited around', () => {
    expect(refusal(() => applyCorefileHosts('. { errors\n}\n', ['a.example.com'], opts)).code).toBe(
      'HAIRPIN_COREFILE_UNEDITABLE',
    );
  });

  test('import mode renders templates for the root block (no hosts: k3s has its own)', () => {
    const out = renderCorefileOverride(['b.example.com', 'a.example.com', '*.c.example.com'], opts);
    expect(out).toBe(
      [
        `template IN A { ${M}`,
        `    match ^(?:a\\.example\\.com|b\\.example\\.com)\\.$ ${M}`,
        `    match ^[^.]+\\.(?:c\\.example\\.com)\\.$ ${M}`,
        `    answer "{{ .Name }} 30 IN A ${IP}" ${M}`,
        `    fallthrough ${M}`,
        `} ${M}`,
        `template IN AAAA { ${M}`,
        `    match ^(?:a\\.example\\.com|b\\.example\\.com)\\.$ ${M}`,
        `    match ^[^.]+\\.(?:c\\.example\\.com)\\.$ ${M}`,
        `    rcode NOERROR ${M}`,
        `    fallthrough ${M}`,
        `} ${M}`,
        '',
      ].join('\n'),
    );
    // Imported into a root block, it is read back as those hosts, with or without comments.
    const imported = `.:53 {\n${out}    forward . 1.1.1.1\n}\n`;
    const hosts = ['*.c.example.com', 'a.example.com', 'b.example.com'];
    expect(managedCorefileHosts(imported, opts)).toEqual(hosts);
    expect(managedCorefileHosts(imported.replaceAll(` ${M}`, ''), opts)).toEqual(hosts);
    expect(applyCorefileHosts(imported, [], opts)).toBe('.:53 {\n    forward . 1.1.1.1\n}\n');
    expect(renderCorefileOverride(['a.example.com'], opts)).not.toContain('^[^.]+');
    expect(renderCorefileOverride([], opts)).toBe('');
  });

  test('tokenizeCorefile gives CoreDNS tokens', () => {
    expect(tokenizeCorefile('. {\n  log#x y\n  "a b" \\"\n}')).toEqual([
      { line: 1, text: '.' },
      { line: 1, text: '{' },
      { line: 2, text: 'log' },
      { line: 2, text: 'y' },
      { line: 3, text: 'a b' },
      { line: 3, text: '\\"' },
      { line: 4, text: '}' },
    ]);
  });
});

describe('hostile input never reaches the file', () => {
  const base = '.:53 {\n    errors\n}\n';
  test.each([
    'a.example.com\n}',
    'a.example.com # x',
    'x{.example.com',
    '"a.example.com"',
    'a.example.com }\n. {',
    `${'a'.repeat(64)}.example.com`,
    '10.0.0.1',
    '',
  ])('host %j', (host) => {
    expect(refusal(() => applyCorefileHosts(base, [host], opts)).code).toBe('HAIRPIN_INVALID_HOST');
  });

  test.each(['relay svc', 'x}', '*.example.com', ''])('target %j', (bad) => {
    expect(refusal(() => applyCorefileHosts(base, ['a.example.com'], { target: bad })).code).toBe(
      'HAIRPIN_INVALID_TARGET',
    );
  });
});

describe('properties', () => {
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
  const host = fc
    .tuple(
      fc.boolean(),
      fc.array(label, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('com', 'org', 'io'),
    )
    .map(([wild, labels, tld]) => `${wild ? '*.' : ''}${[...labels, tld].join('.')}`);

  test('random host sets on every editable corpus file: exact, idempotent, reversible', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...editable),
        fc.array(host, { maxLength: 8 }),
        fc.array(host, { maxLength: 8 }),
        (file, a, b) => {
          const once = applyCorefileHosts(file.text, a, opts);
          expect(managedCorefileHosts(once, opts)).toEqual([...new Set(a)].sort());
          expect(applyCorefileHosts(once, a, opts)).toBe(once);
          const other = applyCorefileHosts(once, b, opts);
          expect(applyCorefileHosts(other, a, opts)).toBe(once);
          const base = applyCorefileHosts(file.text, [], opts);
          const back = applyCorefileHosts(other, [], opts);
          expect(back).toBe(base);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('edits through a CorefileParseMemo give what edits without one give', () => {
    // A sequence of edits, each of the text the last one returned (a copy: as the watch
    // brings it back), now and then of another file or under other options: the memo may
    // only ever answer for the very same text and options.
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(...editable.slice(0, 6)),
            fc.array(host, { maxLength: 6 }),
            fc.nat(9),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        (steps) => {
          const memo = new CorefileParseMemo();
          let text = steps[0]![0].text;
          for (const [file, hosts, roll] of steps) {
            if (roll === 0) text = file.text;
            const options = roll === 1 ? { target, relayIPs: [IP, 'fd00::50'] } : opts;
            const copy = [...text].join('');
            const plain = applyCorefileHosts(copy, hosts, options);
            expect(applyCorefileHosts(copy, hosts, options, memo)).toBe(plain);
            text = plain;
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('random Corefile-ish input: only HairpinErrors, and results re-parse with bytes kept', () => {
    const piece = fc.constantFrom(
      '.',
      '.:53',
      'dns://.:53',
      'example.org',
      '{',
      '}',
      ' ',
      '  ',
      '\t',
      '\n',
      '\r\n',
      '#',
      '# c',
      '"',
      '"q q"',
      '\\',
      'errors',
      'forward',
      '. 8.8.8.8',
      'rewrite',
      'name',
      'import',
      '(snip)',
      ',',
      `rewrite name exact x.example.com ${target} # managed by hairpin`,
      'hosts',
      'hosts /dev/null {',
      'template IN A {',
      `${IP} x.example.com`,
      'match ^[^.]+\\.(?:x\\.com)\\.$',
      `# managed by hairpin`,
      '{$ENV}',
      'x',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }).map((p) => p.join('')),
        fc.array(host, { maxLength: 3 }),
        (text, hosts) => {
          let out: string;
          try {
            out = applyCorefileHosts(text, hosts, opts);
          } catch (err) {
            expect(err).toBeInstanceOf(HairpinError);
            return;
          }
          expect(() => parseCorefile(out)).not.toThrow();
          expect(managedCorefileHosts(out, opts)).toEqual([...new Set(hosts)].sort());
          const back = applyCorefileHosts(out, [], opts);
          expect(back.length).toBeLessThanOrEqual(text.length);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('arbitrary bytes: kept byte for byte, idempotent, removal restores the original', () => {
    const text = (p: string): fc.Arbitrary<Buffer> => fc.constant(Buffer.from(p, 'utf8'));
    const piece = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b)),
      ...['.', '.:53', '{', '}', ' ', '\t', '\n', '\r', '\r\n', '#', '"', 'errors', '\uFEFF'].map(
        text,
      ),
      ...['\u00a0', '\u0085', '\u2028', `rewrite name exact x.example.com ${target}`].map(text),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }).map((p) => Buffer.concat(p)),
        fc.array(host, { minLength: 1, maxLength: 3 }),
        fc.array(host, { maxLength: 3 }),
        (bytes, hosts, others) => {
          let base: Buffer;
          let once: Buffer;
          try {
            base = applyToBytes(bytes, []);
            once = applyToBytes(bytes, hosts);
          } catch (err) {
            expect(err).toBeInstanceOf(HairpinError);
            return;
          }
          expect(applyToBytes(once, hosts).equals(once)).toBe(true);
          const changed = applyToBytes(once, others);
          expect(applyToBytes(changed, []).equals(base)).toBe(true);
          // Without rules of ours to start from (their indentation is followed), exact.
          if (!bytes.includes(target)) {
            expect(base.equals(bytes)).toBe(true);
            expect(applyToBytes(changed, hosts).equals(once)).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
