import { ConfigError, loadConfig, standInConfigSchema } from '../shared/config'
import { startPlanetScaleStandIn } from './planetscale'
import { startUpstashStandIn } from './upstash'

// `tsx dev/standins.ts`: both stand-ins on their own, configured from the environment
// (UPSTASH_*, PLANETSCALE_*, REDIS_URL). Prints one JSON line with their URLs when ready.
let config: ReturnType<typeof loadConfig<typeof standInConfigSchema>>
try {
  config = loadConfig(standInConfigSchema, process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`stand-ins: ${err.message}`)
  process.exit(1)
}
const upstash = await startUpstashStandIn({
  redisUrl: config.REDIS_URL,
  token: config.UPSTASH_TOKEN,
  host: config.UPSTASH_HOST,
  port: config.UPSTASH_PORT,
  connections: config.UPSTASH_CONNECTIONS,
})
const planetscale = await startPlanetScaleStandIn({
  mysqlUrl: config.PLANETSCALE_MYSQL_URL,
  host: config.PLANETSCALE_HOST,
  port: config.PLANETSCALE_PORT,
  poolSize: config.PLANETSCALE_POOL_SIZE,
})
console.log(JSON.stringify({ upstash: upstash.url, planetscale: planetscale.url }))
const stop = async () => {
  await Promise.all([upstash.close(), planetscale.close()])
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
