import type { ChainableCommander } from 'ioredis'

/**
 * A pipeline's or transaction's replies, in order; the first failed command (or an
 * aborted transaction) throws. ioredis reports each command's error beside its value, so
 * without this a failure inside a pipeline passes unnoticed.
 */
export async function replies(batch: ChainableCommander): Promise<unknown[]> {
  const results = await batch.exec()
  if (!results) throw new Error('transaction aborted')
  return results.map(([err, value]) => {
    if (err) throw err
    return value
  })
}
