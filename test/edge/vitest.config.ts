import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineProject } from 'vitest/config'

// Edge tests run inside workerd with the bindings of wrangler.toml.
export default defineProject({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: '../../wrangler.toml' },
      miniflare: {
        bindings: {
          ORIGIN_URL: 'http://origin.test',
          EDGE_SIGNING_SECRET: 'edge-test-signing-secret-0123456789abcdef',
          UPSTASH_REDIS_REST_URL: 'http://upstash.test',
          UPSTASH_REDIS_REST_TOKEN: 'edge-test-token',
          DATABASE_READ_URL: 'http://reader:secret@planetscale.test',
          CORS_ORIGINS: 'https://app.example',
          BODY_LIMIT_BYTES: '102400',
        },
      },
    }),
  ],
  test: {
    name: 'edge',
    include: ['./**/*.test.ts'],
  },
})
