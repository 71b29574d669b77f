import { ApiError } from '../shared/errors'
import { errorFields, log } from './log'

/** The answer when the read-only database does not answer: retryable, nothing changed. */
export function databaseUnreachable(): ApiError {
  return new ApiError('unavailable', 'The database is unreachable; retry shortly', {
    headers: { 'Retry-After': '5' },
  })
}

/** Runs a read on the read-only database; a failure to reach it is a logged 503. */
export async function fromDatabase<T>(requestId: string, query: () => Promise<T>): Promise<T> {
  try {
    return await query()
  } catch (err) {
    if (err instanceof ApiError) throw err
    log('warn', 'database unreachable', { reqId: requestId, ...errorFields(err) })
    throw databaseUnreachable()
  }
}
