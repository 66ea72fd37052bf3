// STUB: owned by the hostname/hosts-file helper; signatures are the contract.

/**
 * Returns the hosts file with the managed lines (`IP host... # managed by hairpin`, each
 * under 512 bytes) at the end, legacy hairpin-proxy lines removed and every other byte
 * unchanged. `hosts` empty removes every managed line. Throws HairpinError INVALID_IP /
 * INVALID_HOST.
 */
export function applyHostsFile(text: string, ip: string, hosts: readonly string[]): string {
  void text;
  void ip;
  void hosts;
  throw new Error('not implemented');
}

/** Hosts currently on managed lines, in file order, with their address. */
export function managedHostsFileEntries(text: string): { ip: string; host: string }[] {
  void text;
  throw new Error('not implemented');
}
