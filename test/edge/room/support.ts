import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { RoomStore } from '../../../edge/room/store'
import { newId } from '../../../shared/ids'

/** Runs `fn` with a fresh room's real SQLite storage (inside its Durable Object, in workerd). */
export function withRoomStorage<T>(
  fn: (storage: DurableObjectStorage, store: RoomStore) => Promise<T> | T,
): Promise<T> {
  const stub = env.ROOMS.getByName(newId())
  return runInDurableObject(stub, async (_room, state) =>
    fn(state.storage, new RoomStore(state.storage.sql)),
  )
}

/** Appends `n` messages by one author; returns their seqs. */
export function appendMany(store: RoomStore, n: number, author = newId()): number[] {
  const seqs: number[] = []
  for (let i = 0; i < n; i++) {
    const appended = store.append({
      id: newId(),
      author,
      clientMsgId: `c-${store.seq + 1}`,
      body: `m${store.seq + 1}`,
      createdAt: Date.now(),
    })
    if (!('stored' in appended)) throw new Error('appendMany: a clientMsgId was reused')
    seqs.push(appended.stored.seq)
  }
  return seqs
}

/** A peer that records what it is sent, frames flattened. */
export function recorder() {
  const messages: string[] = []
  return {
    messages,
    send(data: string) {
      messages.push(data)
    },
    frames(): Array<{ type: string; seq?: number; from?: number; to?: number }> {
      return messages.flatMap((m) => {
        const parsed = JSON.parse(m)
        return Array.isArray(parsed) ? parsed : [parsed]
      })
    },
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
