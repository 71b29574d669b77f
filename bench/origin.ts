import { signRequest } from '../shared/internal/signature'
import { load, type Row, seedProfiles, startExpress, startReadStack } from './read-path'

/**
 * `npm run bench -- origin`: the origin against the guides' Express + mysql2 design on the
 * same work — a profile read by id from MySQL every time (a MISS: Express reads a profile
 * its Redis has not seen). The origin runs as the stack runs it (2 workers, signed
 * requests), Express as one process; the two alternate three times so drift hits both.
 */
export async function benchOrigin(): Promise<{ rows: Row[]; ratio: number }> {
  const { stack, databaseUrl, redisUrl } = await startReadStack()
  const baseline = await startExpress(databaseUrl, redisUrl)
  const rows: Row[] = []
  try {
    console.log('  seeding 260,000 profiles…')
    // The origin reads the first 60,000 over and over; Express never reads one twice, so
    // every request of its is a MISS (its cache-aside would turn a repeat into a HIT).
    const ids = await seedProfiles(databaseUrl, 260_000)
    let expressCursor = 60_000
    const path = (id: string) => `/v1/profiles/${id}`
    const secret = stack.secrets.edgeSigningSecret
    for (let round = 1; round <= 3; round++) {
      // Each request signed for its own path, as the edge would: a different profile every time.
      const signed = await Promise.all(
        ids.slice(0, 60_000).map(async (id) => ({
          path: path(id),
          headers: await signRequest(secret, {
            method: 'GET',
            pathWithQuery: path(id),
            userId: '',
            body: new Uint8Array(),
          }),
        })),
      )
      let next = 0
      rows.push(
        await load(`origin, signed MISS (round ${round})`, {
          url: stack.urls.origin,
          requests: [
            {
              method: 'GET',
              setupRequest: (req) => ({ ...req, ...signed[next++ % signed.length] }),
            },
          ],
        }),
      )
      rows.push(
        await load(`Express + ioredis + mysql2, MISS (round ${round})`, {
          url: baseline.url,
          requests: [
            {
              method: 'GET',
              setupRequest: (req) => ({ ...req, path: path(ids[expressCursor++] ?? ids[0]!) }),
            },
          ],
        }),
      )
    }
  } finally {
    await baseline.close()
    await stack.stop()
  }
  const sum = (prefix: string) =>
    rows.filter((r) => r.name.startsWith(prefix)).reduce((n, r) => n + r.reqPerSec, 0)
  return { rows, ratio: sum('origin') / sum('Express') }
}
