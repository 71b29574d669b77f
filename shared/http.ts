import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { ApiError } from './errors'

/** Renders any thrown value as Plaza's JSON error; unknown errors become a 500 that leaks nothing. */
export function respondError(c: Context, err: unknown, log?: (err: unknown) => void): Response {
  const apiError = toApiError(err)
  if (apiError.code === 'internal') log?.(err)
  return c.json(apiError.toBody(), apiError.status, apiError.headers)
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof HTTPException) {
    const code =
      err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : 'bad_request'
    return new ApiError(code, err.message || 'Bad request')
  }
  return new ApiError('internal', 'Internal error')
}

export const notFound: NotFoundHandler = (c) =>
  c.json(new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`).toBody(), 404)

export function onError(log: (err: unknown, c: Context) => void): ErrorHandler {
  return (err, c) => respondError(c, err, (e) => log(e, c))
}
