import type { GroupCommit } from './group-commit'
import type { RoomOutbox } from './outbox'
import type { RoomPresence } from './presence'
import type { RoomSockets } from './sockets'
import type { RoomStore } from './store'
import type { UnreadBound } from './unread'

/** A room's own bookkeeping, for tests and operators (`GET /internal/rooms/:id/stats`). */
export function roomStats(
  store: RoomStore,
  outbox: RoomOutbox,
  sockets: RoomSockets,
  presence: RoomPresence,
  unread: UnreadBound<WebSocket>,
  commits: GroupCommit,
) {
  return {
    seq: store.seq,
    /** Acked and not yet landed in MySQL (what the room's bound counts). */
    unshipped: outbox.size,
    lowestHeld: store.lowestHeld(),
    sockets: sockets.all().length,
    shipAttempt: store.counter('shipAttempt'),
    landedThrough: store.landedThrough(),
    /** Messages the origin refused for good (kept by the relay for an operator). */
    setAside: store.counter('setAside'),
    wakes: store.counter('wakes'),
    /** Sockets closed (4408) for owing more than the unread bound, since the room woke. */
    closedNotReading: unread.closed,
    presence: presence.snapshot().presence,
    /** Storage commits that carried sends, and the sends they carried, since the room woke. */
    sendCommits: commits.batches,
    sendsCommitted: commits.ran,
  }
}
