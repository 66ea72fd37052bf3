// STUB: owned by the Corefile helper; signatures are the contract.
export interface CorefileToken {
  /** 1-based line on which the token starts, as CoreDNS's lexer counts. */
  readonly line: number;
  /** The token's text with quotes removed and escapes resolved, as CoreDNS sees it. */
  readonly text: string;
}

export interface CorefileEditOptions {
  /** The relay's FQDN, e.g. hairpin-relay.hairpin.svc.cluster.local. */
  readonly target: string;
}

/** CoreDNS's token stream for a Corefile; throws HairpinError COREFILE_PARSE. */
export function tokenizeCorefile(text: string): CorefileToken[] {
  void text;
  throw new Error('not implemented');
}

/**
 * Returns the Corefile with exactly one managed rule per host (validated, sorted) in the
 * root-zone server block, every other byte unchanged. `hosts` empty removes every managed
 * and legacy rule. Throws HairpinError (COREFILE_PARSE, COREFILE_NO_ROOT_BLOCK,
 * COREFILE_AMBIGUOUS_ROOT, INVALID_HOST, INVALID_TARGET) rather than return anything unsafe.
 */
export function applyCorefileHosts(
  text: string,
  hosts: readonly string[],
  options: CorefileEditOptions,
): string {
  void text;
  void hosts;
  void options;
  throw new Error('not implemented');
}

/** Hosts that the Corefile currently rewrites to the target (by marker or by content). */
export function managedCorefileHosts(text: string, options: CorefileEditOptions): string[] {
  void text;
  void options;
  throw new Error('not implemented');
}

/**
 * Content for an import-mode key (k3s / AKS `coredns-custom`, key `hairpin.override`):
 * only the managed rules, one per line, each with the marker.
 */
export function renderCorefileOverride(
  hosts: readonly string[],
  options: CorefileEditOptions,
): string {
  void hosts;
  void options;
  throw new Error('not implemented');
}
