// What the plain-YAML manifests say, read the way kubectl reads them, for tests and benches
// that must run a component as its Deployment or DaemonSet does.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

interface Workload {
  kind?: string;
  spec?: { template?: { spec?: { containers?: { name?: string; command?: string[] }[] } } };
}

/**
 * The Node flags a manifest's container runs with: its command between `node` and the
 * script. Throws if the file has no such container command.
 */
export function manifestNodeFlags(file: string, container: string): string[] {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as Workload | null;
    const c = o?.spec?.template?.spec?.containers?.find((x) => x.name === container);
    if (c?.command !== undefined) return c.command.slice(1, -1);
  }
  throw new Error(`${file}: no command for a container named ${container}`);
}
