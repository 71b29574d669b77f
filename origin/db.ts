import { PassThrough, pipeline, type Readable } from 'node:stream'
import { withReplicas } from 'drizzle-orm/mysql-core'
import { drizzle } from 'drizzle-orm/mysql2'
import mysql from 'mysql2/promise'
import type { OriginConfig } from '../shared/config'
import * as schema from '../shared/schema'

function pool(uri: string, size: number) {
  return mysql.createPool({
    uri,
    connectionLimit: size,
    connectTimeout: 3_000,
    enableKeepAlive: true,
    timezone: 'Z',
    charset: 'utf8mb4',
    supportBigNumbers: true,
  })
}

/** The origin's database: a mysql2 pool on the primary, and reads spread over replicas when configured. */
export function createDatabase(
  config: Pick<OriginConfig, 'DATABASE_URL' | 'DATABASE_REPLICA_URLS' | 'DATABASE_POOL_SIZE'>,
) {
  const primaryPool = pool(config.DATABASE_URL, config.DATABASE_POOL_SIZE)
  const replicaPools = config.DATABASE_REPLICA_URLS.map((url) =>
    pool(url, config.DATABASE_POOL_SIZE),
  )
  const primary = drizzle({ client: primaryPool, schema, mode: 'default' })
  const [first, ...rest] = replicaPools.map((client) =>
    drizzle({ client, schema, mode: 'default' }),
  )
  const db = first ? withReplicas(primary, [first, ...rest]) : primary
  return {
    db,
    /** Writes, and reads that must see them (read-your-writes), go here, never to a replica. */
    primary,
    /** The primary pool's connections in use, idle, and requests waiting for one (metrics). */
    poolStats() {
      // mysql2 keeps these on the callback pool; no public accessor exists.
      const p = primaryPool.pool as unknown as Record<
        '_allConnections' | '_freeConnections' | '_connectionQueue',
        { length: number }
      >
      const idle = p._freeConnections.length
      return { inUse: p._allConnections.length - idle, idle, waiting: p._connectionQueue.length }
    },
    /**
     * A query's rows as a stream from the primary, read as they are consumed (mysql2 pauses
     * the connection while the reader is behind): for results too large to hold.
     */
    stream(sql: string, values: unknown[]): Readable {
      const out = new PassThrough({ objectMode: true, highWaterMark: 1_000 })
      primaryPool.pool.getConnection((err, connection) => {
        if (err) return out.destroy(err)
        const rows = connection.query(sql, values).stream({ highWaterMark: 1_000 })
        // Stopped early (the reader went away), the connection is mid-result: never reuse it.
        pipeline(rows, out, (failed) => (failed ? connection.destroy() : connection.release()))
      })
      return out
    },
    /** Readiness: the primary answers a query. */
    async ping(): Promise<void> {
      await primaryPool.query('SELECT 1')
    },
    async close(): Promise<void> {
      await Promise.all([primaryPool, ...replicaPools].map((p) => p.end()))
    },
  }
}
export type Database = ReturnType<typeof createDatabase>
/** A transaction on the primary, as drizzle hands it to `db.transaction`'s callback. */
export type Transaction = Parameters<Parameters<Database['primary']['transaction']>[0]>[0]
