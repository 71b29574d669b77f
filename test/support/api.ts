import { signRequest } from '../../shared/internal/signature'
/** A tiny client for the edge, as an app would call it. */
export interface ApiResponse<T = unknown> {
  status: number
  headers: Headers
  body: T
}

export function apiClient(base: string, defaults: { ip?: string } = {}) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever body the API answered.
  return async function api<T = any>(
    path: string,
    options: {
      method?: string
      token?: string
      json?: unknown
      body?: BodyInit
      headers?: Record<string, string>
      ip?: string
    } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers }
    const ip = options.ip ?? defaults.ip
    if (ip) headers['cf-connecting-ip'] = ip
    if (options.token) headers.authorization = `Bearer ${options.token}`
    let body = options.body
    if (options.json !== undefined) {
      headers['content-type'] ??= 'application/json'
      body = JSON.stringify(options.json)
    }
    const res = await fetch(`${base}${path}`, { method: options.method ?? 'GET', headers, body })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T }
  }
}

let counter = 0
/** A fresh client IP per test, so rate-limit buckets never carry over. */
export const freshIp = () =>
  `10.${(process.pid >> 8) & 255}.${process.pid & 255}.${++counter % 250}`
export const freshEmail = (label = 'user') =>
  `${label}.${Date.now().toString(36)}.${++counter}@example.test`

/** Headers of a GET signed with the edge's secret: how operators (and tests) read /health's details. */
export function operatorHeaders(secret: string, path: string): Promise<Record<string, string>> {
  return signRequest(secret, {
    method: 'GET',
    pathWithQuery: path,
    userId: '',
    body: new Uint8Array(),
  })
}

/**
 * Waits, if needed, so the next few seconds stay inside one minute window of the sliding
 * window limiter: 100 requests straddling a boundary are partly weighted down and let one
 * more through, which is the algorithm, not a bug.
 */
export async function awayFromWindowEdge(windowMs = 60_000, needMs = 8_000): Promise<void> {
  const into = Date.now() % windowMs
  if (into > windowMs - needMs) await new Promise((r) => setTimeout(r, windowMs - into + 50))
}
