// The shared corpus of real Corefiles and hosts files (../shared/corpus beside the repo).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const corpusDir = fileURLToPath(new URL('../../../../shared/corpus/', import.meta.url));

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
