import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { ApiError } from './errors'

/** Whether a Content-Type names JSON (`application/json`, parameters allowed), at the edge and the origin alike. */
export function isJsonContentType(value: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(value ?? '')
}

/** Renders any thrown value as Plaza's JSON error; unknown errors become a 500 that leaks nothing. */
export function respondError(c: Context, err: unknown, log?: (err: unknown) => void): Response {
  const apiError = toApiError(err)
  if (
    apiError.code === 'internal' ||
    (apiError.code === 'unavailable' && !(err instanceof ApiError))
  )
    log?.(err)
  return c.json(apiError.toBody(), apiError.status, apiError.headers)
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof HTTPException) {
    const code =
      err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : 'bad_request'
    return new ApiError(code, err.message || 'Bad request')
  }
  if (isUnreachable(err)) {
    return new ApiError('unavailable', 'A dependency is unreachable; retry shortly', {
      headers: { 'Retry-After': '5' },
    })
  }
  return new ApiError('internal', 'Internal error')
}

/** Connection-level failures (database or Redis down, not a bad query): 503, not 500. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
])
function isUnreachable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    depth++
  ) {
    if (typeof e.code === 'string' && unreachableCodes.has(e.code)) return true
    if (
      e instanceof Error &&
      /connect ECONNREFUSED|Connection lost|Can't add new command when connection is in closed state/.test(
        e.message,
      )
    )
      return true
    e = e.cause as typeof e
  }
  return false
}

export const notFound: NotFoundHandler = (c) =>
  c.json(new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`).toBody(), 404)

export function onError(log: (err: unknown, c: Context) => void): ErrorHandler {
  return (err, c) => respondError(c, err, (e) => log(e, c))
}
