import type mysql from 'mysql2/promise'

/** Rows of a SELECT, typed by the caller. */
export async function select<T>(
  db: mysql.Connection,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const [rows] = await db.query(sql, params)
  return rows as T[]
}

export { messageCount } from '../../dev/database'
