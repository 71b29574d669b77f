import type { EdgeConfig } from '../shared/config'
import type { LimitCheck } from './middleware/ratelimit'
import type { Room } from './room'

/** Bindings of wrangler.toml: the Room namespace and the variables `edgeConfigSchema` validates. */
export interface Env {
  ROOMS: DurableObjectNamespace<Room>
  /** The demo page's files (wrangler.toml [assets]). */
  ASSETS: Fetcher
  [variable: string]: unknown
}

export interface AppEnv {
  Bindings: Env
  Variables: {
    config: EdgeConfig
    requestId: string
    /** Set by auth once a token verifies; empty for anonymous requests. */
    userId: string
    /** Expiry (unix seconds) of the verified access token. */
    tokenExp: number
    /** A rate-limit check waiting to ride in the handler's cache pipeline (rateLimit withRead). */
    limit?: LimitCheck
  }
}
