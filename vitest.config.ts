import { defineConfig } from 'vitest/config';

const unit = (name: string) => ({
  test: {
    name,
    root: `packages/${name}`,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

const e2e = {
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
};

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      unit('shared'),
      unit('testing'),
      unit('relay'),
      unit('dns-controller'),
      unit('hosts-agent'),
      {
        test: {
          name: 'manifests',
          include: ['test/manifests/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'docs',
          include: ['test/docs/**/*.test.ts'],
        },
      },
      // The kind suite creates a cluster and fetches manifests from the internet: only
      // `pnpm test:e2e` (which sets HAIRPIN_E2E=1) defines it, so `pnpm test` never starts it.
      ...(process.env['HAIRPIN_E2E'] === '1' ? [e2e] : []),
    ],
  },
});
