// What a test needs that this machine lacks (a peer binary, CoreDNS, python3): one line to
// skip with, except in CI (HAIRPIN_REQUIRE_PEERS=1), where the suite must fail instead.
import { existsSync } from 'node:fs';

/**
 * `<reason>: <tests> skipped`, the line to skip with; where HAIRPIN_REQUIRE_PEERS=1 requires
 * them, throws `<reason>: <tests> required here` instead.
 */
export function skipOrFail(
  reason: string,
  tests: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (env['HAIRPIN_REQUIRE_PEERS'] === '1') {
    throw new Error(`${reason}: ${tests} required here (HAIRPIN_REQUIRE_PEERS=1)`);
  }
  return `${reason}: ${tests} skipped`;
}

/** Why `tests` needing `binary` cannot run (see skipOrFail), or undefined when they can. */
export function binaryMissing(binary: string, install: string, tests: string): string | undefined {
  return existsSync(binary)
    ? undefined
    : skipOrFail(`${binary} is not installed (${install})`, tests);
}
