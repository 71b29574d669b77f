/** What the SDK throws: Plaza's error code and message, the HTTP status, and the details (e.g. each invalid field). */
export class PlazaError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'PlazaError'
  }
}

/** An error body `{error: {code, message, details?}}` as a PlazaError whose message names each bad field. */
export function errorFromBody(body: unknown, status: number): PlazaError {
  const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)
    ?.error
  const details = error?.details
  const fields = Array.isArray(details)
    ? details
        .filter((d): d is { path: string; message: string } => typeof d?.message === 'string')
        .map((d) => `${d.path}: ${d.message}`)
        .join('; ')
    : ''
  const message = [error?.message ?? `HTTP ${status}`, fields].filter(Boolean).join(' — ')
  return new PlazaError(error?.code ?? 'http_error', message, status, details)
}
