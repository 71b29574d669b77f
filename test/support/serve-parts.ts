import { ensureReadOnlyUser, resetDatabase } from '../../dev/database'
import { generateSigningKey } from '../../dev/jwk'
import { startPlanetScaleStandIn } from '../../dev/planetscale'
import { startUpstashStandIn } from '../../dev/upstash'
import { databaseUrl, readOnlyUser, redisUrl } from './env'
import { startOrigin } from './origin'

/**
 * Starts the parts the edge talks to (origin, Upstash and PlanetScale stand-ins) on a
 * fresh database, prints their addresses as one JSON line, and stops them on SIGTERM.
 * A separate process, so the workerd suite's Vite transforms never touch Node-only code.
 */
const url = databaseUrl(process.argv[2] ?? 'plaza_edge_test')
await resetDatabase(url)
await ensureReadOnlyUser(url, readOnlyUser.user, readOnlyUser.password)
const signingSecret = 'edge-suite-signing-secret-0123456789abcdef'
const upstashToken = 'edge-suite-upstash-token-0123456789'
const upstash = await startUpstashStandIn({ redisUrl, token: upstashToken })
const planetscale = await startPlanetScaleStandIn({ mysqlUrl: url })
const key = await generateSigningKey('edge-suite')
const origin = await startOrigin({
  EDGE_SIGNING_SECRET: signingSecret,
  ORIGIN_WORKERS: '1',
  DATABASE_URL: url,
  JWT_SIGNING_KEY: key.privateJwk,
})
console.log(
  JSON.stringify({
    originUrl: origin.url,
    upstashUrl: upstash.url,
    upstashToken,
    databaseReadUrl: planetscale.url.replace(
      'http://',
      `http://${readOnlyUser.user}:${readOnlyUser.password}@`,
    ),
    signingSecret,
    jwtJwks: key.jwks,
    jwtPrivateJwk: key.privateJwk,
  }),
)
const stop = async () => {
  await origin.stop()
  await upstash.close()
  await planetscale.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
