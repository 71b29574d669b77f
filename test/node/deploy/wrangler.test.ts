import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { wranglerEnv } from '../../../dev/edge'
import { edgeConfigSchema } from '../../../shared/config'
import { repoRoot } from '../../support/origin'

// The edge's environments (wrangler.toml [env.staging], [env.production]): a dry run
// bundles each with its own bindings, no account needed; its variables, with the secrets
// filled in, are a valid edge config.
function dryRun(env: string) {
  const outdir = mkdtempSync(join(tmpdir(), `plaza-edge-${env}-`))
  try {
    const out = execFileSync(
      process.execPath,
      [
        join(repoRoot, 'node_modules/wrangler/bin/wrangler.js'),
        'deploy',
        '--dry-run',
        '--env',
        env,
        '--outdir',
        outdir,
      ],
      { cwd: repoRoot, env: { ...process.env, ...wranglerEnv }, encoding: 'utf8' },
    )
    return { out, bytes: statSync(join(outdir, 'index.js')).size }
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

const secrets = {
  EDGE_SIGNING_SECRET: 'x'.repeat(40),
  UPSTASH_REDIS_REST_TOKEN: 'token',
  DATABASE_READ_URL: 'https://reader:password@aws.connect.psdb.cloud',
  JWT_JWKS: JSON.stringify({
    keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), kid: 'k1', alg: 'EdDSA', use: 'sig' }],
  }),
}

describe('wrangler environments', () => {
  for (const env of ['staging', 'production']) {
    it(`--env ${env}: bundles with its Durable Objects, assets and dataset, and its vars are a valid config`, () => {
      const { out, bytes } = dryRun(env)
      expect(out).toMatch(/--dry-run: exiting now/)
      for (const binding of [
        'env.ROOMS (Room)',
        'env.RELAYS (Relay)',
        'env.LIVE (LiveDashboard)',
        'env.ANALYTICS',
        'env.ASSETS',
      ])
        expect(out).toContain(binding)
      expect(bytes).toBeGreaterThan(100_000)
      const vars = Object.fromEntries(
        [...out.matchAll(/env\.([A-Z][A-Z0-9_]+) \("(.*)"\)/g)].map((m) => [m[1], m[2]]),
      )
      expect(vars.ORIGIN_URL).toMatch(/^https:\/\//)
      const parsed = edgeConfigSchema.safeParse({ ...vars, ...secrets })
      expect(parsed.error?.issues ?? []).toEqual([])
    })
  }
})
