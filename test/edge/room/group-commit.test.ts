import { describe, expect, it } from 'vitest'
import { GroupCommit } from '../../../edge/room/group-commit'

describe('GroupCommit', () => {
  it('runs work queued together in one batch, in order, each caller getting its own result', async () => {
    const commits = new GroupCommit()
    const ran: number[] = []
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        commits.run(() => {
          ran.push(n)
          return n * 10
        }),
      ),
    )
    expect(ran).toEqual([1, 2, 3, 4, 5])
    expect(results).toEqual([10, 20, 30, 40, 50])
    expect({ batches: commits.batches, ran: commits.ran }).toEqual({ batches: 1, ran: 5 })
  })

  it('queues work for a later event, and runs it at once when the batch is full', async () => {
    const commits = new GroupCommit({ maxBatch: 3 })
    const ran: number[] = []
    const queued = [1, 2].map((n) => commits.run(() => ran.push(n)))
    expect(ran).toEqual([])
    expect(commits.waiting).toBe(2)
    const third = commits.run(() => ran.push(3))
    // The third filled the batch: all three ran before run() returned.
    expect(ran).toEqual([1, 2, 3])
    expect(commits.waiting).toBe(0)
    await Promise.all([...queued, third])
    expect(commits.batches).toBe(1)
  })

  it('runs a batch that has waited its longest with the work that finds it so', async () => {
    const commits = new GroupCommit({ maxWaitMs: 0 })
    const ran: number[] = []
    void commits.run(() => ran.push(1))
    expect(ran).toEqual([1])
  })

  it('runs afterBatch once a batch is done, after its callers have resumed', async () => {
    const seen: string[] = []
    const commits = new GroupCommit({ afterBatch: () => seen.push('after') })
    await Promise.all(
      [1, 2, 3].map(async (n) => {
        await commits.run(() => seen.push(`ran ${n}`))
        seen.push(`ack ${n}`)
      }),
    )
    await commits.run(() => seen.push('ran 4'))
    await new Promise((r) => setTimeout(r, 0))
    expect(seen).toEqual([
      'ran 1',
      'ran 2',
      'ran 3',
      'ack 1',
      'ack 2',
      'ack 3',
      'after',
      'ran 4',
      'after',
    ])
  })

  it('rejects only the caller whose work threw; the rest of the batch runs', async () => {
    const commits = new GroupCommit()
    const first = commits.run(() => {
      throw new Error('storage said no')
    })
    const second = commits.run(() => 'stored')
    await expect(first).rejects.toThrow('storage said no')
    await expect(second).resolves.toBe('stored')
  })
})
