import { defineConfig } from 'vitest/config'
import { LastFilesSequencer } from './test/support/sequencer'

// Three projects: workerd and Node tests must not share a pool (mixing them crashes workerd).
export default defineConfig({
  test: {
    // The shard-key test reads what every integration suite sent: it runs last.
    sequence: { sequencer: LastFilesSequencer },
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/node-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      'test/edge/vitest.config.ts',
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/integration-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
