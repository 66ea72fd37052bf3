// Test fixtures kept in this package: the corpus of real Corefiles and hosts files (with
// the outputs of CoreDNS's own parsers as oracles; fixtures/corpus/SOURCES.md says where
// each came from), and exchanges recorded against a real kube-apiserver
// (fixtures/kube-api-conformance/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The corpus directory, with a trailing slash. */
export const corpusDir = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));

/** The recorded kube-apiserver exchanges, with a trailing slash. */
export const kubeApiConformanceDir = fileURLToPath(
  new URL('../fixtures/kube-api-conformance/', import.meta.url),
);

/** A corpus file's path, e.g. corpusFile('corefiles/k3s.Corefile'). */
export function corpusFile(name: string): string {
  return `${corpusDir}${name}`;
}

export interface CorpusFile {
  readonly name: string;
  readonly text: string;
}

function readDir(sub: string, suffix: string): CorpusFile[] {
  const dir = `${corpusDir}${sub}`;
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => ({ name: `${sub}${e.name}`, text: readFileSync(`${dir}${e.name}`, 'utf8') }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function corefiles(): CorpusFile[] {
  return [...readDir('corefiles/', '.Corefile'), ...readDir('corefiles/synthetic/', '.Corefile')];
}

export function hostsFiles(): CorpusFile[] {
  return readDir('hosts/', '.hosts');
}

export interface CorefileOracle {
  readonly tokens: [number, string][];
  readonly parse: { readonly ok: boolean; readonly error?: string };
}

export function corefileOracle(corefileName: string): CorefileOracle {
  const base = corefileName.replace(/^corefiles\//, '').replace(/\.Corefile$/, '.oracle.json');
  return JSON.parse(readFileSync(`${corpusDir}oracle/${base}`, 'utf8')) as CorefileOracle;
}

export function hostsOracle(hostsName: string): { entries: [string, string[]][] } {
  const base = hostsName.replace(/^hosts\//, '').replace(/\.hosts$/, '.coredns-entries.json');
  return JSON.parse(readFileSync(`${corpusDir}oracle-hosts/${base}`, 'utf8')) as {
    entries: [string, string[]][];
  };
}
