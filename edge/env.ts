import type { RequestIdVariables } from 'hono/request-id'
import type { LiveDashboard } from './live'
import type { AuthVariables } from './middleware/auth'
import type { ConfigVariables } from './middleware/config'
import type { Relay } from './relay'
import type { Room } from './room'
import type { RoundTripVariables } from './round-trip'

/** Bindings of wrangler.toml: the Room and Relay namespaces and the variables `edgeConfigSchema` validates. */
export interface Env {
  ROOMS: DurableObjectNamespace<Room>
  /** The relays that ship many rooms' messages to MySQL together. */
  RELAYS: DurableObjectNamespace<Relay>
  /** The live dashboard's channel (one object). */
  LIVE: DurableObjectNamespace<LiveDashboard>
  /** The demo page's files (wrangler.toml [assets]). */
  ASSETS: Fetcher
  /** Workers Analytics Engine, if bound (production): one data point per request. */
  ANALYTICS?: AnalyticsEngineDataset
  [variable: string]: unknown
}

/** The edge app's env: its bindings, and each middleware's variables, declared where it sets them. */
export interface AppEnv {
  Bindings: Env
  Variables: RequestIdVariables & ConfigVariables & AuthVariables & RoundTripVariables
}
