import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // After the last file: the cluster's audit log must show no write to a workload by the operator.
          globalSetup: ['test/integration/support/no-workload-writes.ts'],
          // One control plane and one operator per file: files run one after another so that
          // their operators never act on each other's Runners and request counts stay exact.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'browser',
          // Pages the operator serves, driven in the machine's Chromium (test/browser/support/browser.ts),
          // against a control plane of their own.
          include: ['test/browser/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'throttled',
          // A control plane of its own with API Priority and Fairness on (the others run without limits).
          include: ['test/throttled/**/*.test.ts'],
          globalSetup: ['test/integration/support/no-workload-writes.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'disruptive',
          // Tests that damage their control plane (an API server stop/start leaves kwok's simulated
          // pods stuck): each run gets a cluster of its own, after the integration suite.
          include: ['test/disruptive/**/*.test.ts'],
          globalSetup: ['test/integration/support/no-workload-writes.ts'],
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // `make dev` itself, bounded (test/dev/make-dev.test.ts): it starts a control plane of its own.
          name: 'dev',
          include: ['test/dev/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 480_000,
        },
      },
      {
        test: {
          name: 'chaos',
          // The fault suite (RELIABILITY.md): it kills operators, restarts and compacts its control
          // plane, so it gets a cluster of its own; HESTIA_CHAOS_SIZE=full (`make chaos`) runs it at
          // full size, otherwise the reduced size of `make test`.
          include: ['test/chaos/**/*.test.ts'],
          globalSetup: ['test/integration/support/no-workload-writes.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
