import type { Context } from 'hono'
import { ApiError, validationError } from '../../shared/errors'
import type { OriginEnv } from '../env'

/** zod-openapi's hook: a body that fails validation is 422, a bad path or query 400, each issue listed. */
export function validationHook(
  result: {
    success: boolean
    target?: string
    error?: { issues: Array<{ path: PropertyKey[]; message: string }> }
  },
  _c: Context,
): undefined {
  if (result.success) return undefined
  const issues = result.error?.issues ?? []
  throw result.target === 'json'
    ? validationError(issues, 'unprocessable', 'Body failed validation')
    : validationError(issues)
}

/** The user the edge vouched for, or 401. */
export function requireUser(c: Context<OriginEnv>): string {
  const userId = c.var.userId
  if (!userId) {
    throw new ApiError('unauthorized', 'Sign in first', {
      headers: { 'WWW-Authenticate': 'Bearer' },
    })
  }
  return userId
}

export { isDuplicateKey } from '../mysql-errors'
