// Which build runs: the version and git commit baked into the bundle (scripts/bundle.ts
// defines both at bundle time), for --version and the hairpin_build_info metric.
import { Gauge, type Registry } from 'prom-client';

// Replaced by esbuild's `define` in a bundle; undeclared (typeof: "undefined") in the sources.
declare const __HAIRPIN_VERSION__: string | undefined;
declare const __HAIRPIN_COMMIT__: string | undefined;

export interface BuildInfo {
  readonly version: string;
  /** The git commit the bundle was built from; `unknown` outside a git checkout. */
  readonly commit: string;
  readonly nodeVersion: string;
}

export const BUILD_INFO: BuildInfo = Object.freeze({
  version: typeof __HAIRPIN_VERSION__ === 'string' ? __HAIRPIN_VERSION__ : 'dev',
  commit: typeof __HAIRPIN_COMMIT__ === 'string' ? __HAIRPIN_COMMIT__ : 'unknown',
  nodeVersion: process.versions.node,
});

/** `hairpin-relay 0.1.0 (commit 0123abc..., node 26.1.0)`: what --version prints. */
export function versionLine(name: string, info: BuildInfo = BUILD_INFO): string {
  return `${name} ${info.version} (commit ${info.commit}, node ${info.nodeVersion})`;
}

/**
 * `hairpin_build_info{version, commit, node_version} 1`, the convention of Kubernetes
 * components (`kubernetes_build_info`) for telling which build runs where. Its aggregator
 * is `first`, so a relay with several workers reports 1, not one per worker.
 */
export function registerBuildInfo(registry: Registry, info: BuildInfo = BUILD_INFO): void {
  new Gauge({
    name: 'hairpin_build_info',
    help: 'The version, git commit and Node version of this process: always 1',
    labelNames: ['version', 'commit', 'node_version'] as const,
    aggregator: 'first',
    registers: [registry],
  }).set({ version: info.version, commit: info.commit, node_version: info.nodeVersion }, 1);
}
