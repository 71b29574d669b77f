import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { csvExports, exportHeader } from '../../../origin/analytics/export'
import { createDatabase } from '../../../origin/db'
import { databaseUrl } from '../../support/env'

// The export's kept files (analytics issue): served again within the TTL, and the
// directory never grows past a TTL's worth — earlier windows' files are swept.
let dir: string
const database = createDatabase({
  DATABASE_URL: databaseUrl('plaza_test'),
  DATABASE_REPLICA_URLS: [],
  DATABASE_POOL_SIZE: 1,
})

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plaza-export-test-'))
})

afterAll(async () => {
  await database.close()
  await rm(dir, { recursive: true, force: true })
})

describe('CSV export files', () => {
  it('keeps a made file for the TTL and sweeps files older than it', async () => {
    const stale = join(dir, 'messages-1h-2020-01-01T00h.csv')
    await writeFile(stale, 'old')
    const hourAgo = new Date(Date.now() - 2 * 3_600_000)
    await utimes(stale, hourAgo, hourAgo)
    const csvExport = csvExports(database, { EXPORT_CACHE_DIR: dir, EXPORT_TTL_SECONDS: 3_600 })
    const first = await csvExport('1h')
    expect(first.cache).toBe('MISS')
    expect((await text(first.body)).startsWith(exportHeader)).toBe(true)
    const files = await readdir(dir)
    expect(files).toEqual([`${first.filename.replace(/^plaza-/, '')}`])
    const again = await csvExport('1h')
    expect(again.cache).toBe('HIT')
    await text(again.body)
  })
})
