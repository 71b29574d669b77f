import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase } from '../../../origin/db'
import { addToRollups } from '../../../origin/ingest/rollups'
import { newId } from '../../../shared/ids'
import { databaseUrl } from '../../support/env'

// A shipment from many small rooms (the scale issue's 500 × 4) once cost the rollups a
// statement per room and hour inside the ingest's transaction. One connection, so the
// session's own counters see exactly the statements the rollups sent.
const database = createDatabase({
  DATABASE_URL: databaseUrl('plaza_test'),
  DATABASE_REPLICA_URLS: [],
  DATABASE_POOL_SIZE: 1,
})

afterAll(async () => {
  await database.close()
})

type Tx = Parameters<Parameters<typeof database.primary.transaction>[0]>[0]

async function statements(tx: Tx): Promise<number> {
  const [rows] = (await tx.execute(
    sql`SHOW SESSION STATUS WHERE Variable_name IN ('Com_insert', 'Com_select', 'Com_update')`,
  )) as unknown as [Array<{ Value: string }>]
  return rows.reduce((n, r) => n + Number(r.Value), 0)
}

describe('the rollups of one shipment', () => {
  it('cost the same few statements for 200 rooms as for one', async () => {
    const now = Date.now()
    const message = (seq: number) => ({
      seq,
      id: newId(),
      author: newId(),
      clientMsgId: null,
      body: 'hello',
      createdAt: now,
    })
    const counted: number[] = []
    for (const rooms of [1, 200]) {
      const fresh = Array.from({ length: rooms }, () => newId()).flatMap((roomId) =>
        [1, 2].map((seq) => ({ roomId, message: message(seq) })),
      )
      await database.primary
        .transaction(async (tx) => {
          const before = await statements(tx)
          await addToRollups(tx, fresh)
          counted.push((await statements(tx)) - before)
          tx.rollback()
        })
        .catch((err: Error) => {
          if (!/rollback/i.test(err.message)) throw err
        })
    }
    expect(counted[1]).toBe(counted[0])
    expect(counted[1]).toBeLessThanOrEqual(3)
  })
})
