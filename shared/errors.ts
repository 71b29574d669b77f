import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Every error Plaza answers with, and the HTTP status it maps to (DESIGN §2.5). */
export const errorStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  upgrade_required: 426,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof errorStatus

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown }
}

/** The one error type: thrown anywhere, rendered by `respondError` as `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  readonly headers: Record<string, string>

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.details = options.details
    this.headers = options.headers ?? {}
  }

  get status(): ContentfulStatusCode {
    return errorStatus[this.code]
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message }
    if (this.details !== undefined) error.details = this.details
    return { error }
  }
}

/** A failed zod validation as Plaza's error: each issue listed with its field path. */
export function validationError(
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
  code: 'bad_request' | 'unprocessable' = 'bad_request',
  message = 'Invalid request',
): ApiError {
  const details = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
  return new ApiError(code, message, { details })
}
