import type { RequestIdVariables } from 'hono/request-id'
import type { Logger } from './logger'

/** The origin app's env: the variables its middleware set for every handler. */
export interface OriginEnv {
  Variables: RequestIdVariables & {
    log: Logger
    /** The user the edge vouched for; empty for anonymous requests. */
    userId: string
  }
}
