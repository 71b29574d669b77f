import cluster from 'node:cluster'
import { ConfigError, loadConfig, originConfigSchema } from '../shared/config'
import { runPrimary } from './cluster'
import { runWorker } from './worker'

// `npm run origin`: the origin cluster. Configuration comes from the environment (README).
let config: ReturnType<typeof loadConfig<typeof originConfigSchema>>
try {
  config = loadConfig(originConfigSchema, process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error(`origin: ${err.message}`)
  process.exit(1)
}

if (cluster.isPrimary) runPrimary(config)
else runWorker(config)
