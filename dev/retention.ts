import mysql from 'mysql2/promise'
import { retentionPolicy, runRetention } from '../origin/analytics/retention'
import { loadConfig, originConfigSchema } from '../shared/config'
import { redact } from './database'

/**
 * `npm run retention:run`: one retention run now, as the origin's workers run it every
 * RETENTION_INTERVAL_MS (same lock: if one of them is running, this does nothing and says so).
 */
if (process.argv[1]?.endsWith('retention.ts')) {
  const shape = originConfigSchema.pick({
    DATABASE_URL: true,
    RETENTION_ARCHIVE_DAYS: true,
    RETENTION_DELETE_DAYS: true,
    RETENTION_BATCH: true,
  })
  const config = loadConfig(shape, process.env)
  const pool = mysql.createPool({ uri: config.DATABASE_URL, connectionLimit: 1, timezone: 'Z' })
  try {
    const report = await runRetention(pool, retentionPolicy(config))
    console.log(
      report.ran
        ? `retention: ${report.archived} archived, ${report.deleted} deleted, in ${report.rooms} rooms`
        : 'retention: another run holds the lock; nothing done',
    )
  } catch (err) {
    console.error(`retention failed on ${redact(config.DATABASE_URL)}: ${(err as Error).message}`)
    process.exitCode = 1
  } finally {
    await pool.end()
  }
}
