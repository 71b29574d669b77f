/** Whether a MySQL error (possibly wrapped by drizzle, as `cause`) is the one named. */
function isMysqlError(err: unknown, code: string, errno: number): boolean {
  for (
    let e = err as { code?: string; errno?: number; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === code || e.errno === errno) return true
  }
  return false
}

export const isDuplicateKey = (err: unknown) => isMysqlError(err, 'ER_DUP_ENTRY', 1062)

/** InnoDB chose this transaction as a deadlock's victim: it was rolled back and may run again. */
export const isDeadlock = (err: unknown) => isMysqlError(err, 'ER_LOCK_DEADLOCK', 1213)
