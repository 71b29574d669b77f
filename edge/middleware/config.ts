import type { MiddlewareHandler } from 'hono'
import type { EdgeConfig } from '../../shared/config'
import { ApiError } from '../../shared/errors'
import { parseConfig } from '../config'
import { log } from '../log'

export type ConfigVariables = { config: EdgeConfig }

/**
 * Validates the Worker's variables once per isolate and exposes them as `c.get('config')`.
 * A Worker has no start-up hook, so a bad variable answers 500 naming it (and logs it)
 * instead of failing somewhere deeper.
 */
export function edgeConfig(): MiddlewareHandler<{ Variables: ConfigVariables }> {
  return async (c, next) => {
    const result = parseConfig(c.env as object)
    if (!result.ok) {
      if (result.isNew) log('error', 'invalid edge configuration', { problems: result.problems })
      throw new ApiError('internal', 'The edge is misconfigured', {
        details: { problems: result.problems },
      })
    }
    c.set('config', result.config)
    await next()
  }
}
