/**
 * The edge's logger: one JSON object a line on console, which Workers Logs index by field
 * (and Logpush ships). Request-scoped lines carry `reqId`, the same field and value as the
 * origin's pino lines for the same request (the edge forwards it as X-Request-Id).
 */
type Level = 'debug' | 'info' | 'warn' | 'error'

const order = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const
let threshold: number = order.info

/** LOG_LEVEL, set once per isolate when its config is read. */
export function setLogLevel(level: keyof typeof order): void {
  threshold = order[level]
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold) return
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields })
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}

export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error
    ? { err: err.message, errName: err.name, stack: err.stack }
    : { err: String(err) }
}
