/** The edge's logger: one JSON object a line on console, which Workers Logs index by field. */
type Level = 'debug' | 'info' | 'warn' | 'error'

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
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
