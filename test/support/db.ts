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

/** The number of a room's messages in MariaDB. */
export async function messageCount(db: mysql.Connection, roomId: string): Promise<number> {
  const [row] = await select<{ n: number }>(
    db,
    'SELECT count(*) AS n FROM messages WHERE room_id = ?',
    [roomId],
  )
  return Number(row?.n ?? 0)
}
