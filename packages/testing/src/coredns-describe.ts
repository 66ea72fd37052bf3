// describeWithCoreDNS: the suite form of coreDNSMissing (apart from coredns.ts, which benchmarks
// import too, so that only test files load vitest).
import { describe } from 'vitest';
import { coreDNSMissing, findCoreDNS } from './coredns.ts';

/**
 * `describe`, when a CoreDNS binary is available (its path is passed to `body`); otherwise
 * the suite is registered as skipped under one line that says why.
 */
export function describeWithCoreDNS(name: string, body: (coredns: string) => void): void {
  const missing = coreDNSMissing();
  if (missing !== undefined) {
    describe.skip(`${name} (${missing})`, () => body(''));
    return;
  }
  describe(name, () => body(findCoreDNS() ?? ''));
}
