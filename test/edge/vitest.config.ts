import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineProject } from 'vitest/config'
import { buildWeb } from '../../dev/web'

// wrangler.toml serves web/dist as static assets: it must exist before the pool reads it.
buildWeb()

// Edge tests run inside workerd with wrangler.toml's bindings, talking to a real origin
// and the real stand-ins that global-setup.ts starts in Node.
export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => {
      const stack = inject('edgeStack')
      return {
        wrangler: { configPath: '../../wrangler.toml' },
        miniflare: {
          bindings: {
            ORIGIN_URL: stack.originUrl,
            EDGE_SIGNING_SECRET: stack.signingSecret,
            UPSTASH_REDIS_REST_URL: stack.upstashUrl,
            UPSTASH_REDIS_REST_TOKEN: stack.upstashToken,
            DATABASE_READ_URL: stack.databaseReadUrl,
            CORS_ORIGINS: 'https://app.example',
            JWT_JWKS: stack.jwtJwks,
          },
        },
      }
    }),
  ],
  test: {
    name: 'edge',
    include: ['./**/*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    // The first test of a file may wait for workerd to load the Worker and its objects.
    testTimeout: 20_000,
  },
})
