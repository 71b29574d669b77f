import type { EdgeConfig } from '../../shared/config'
import { errorFields, log } from '../log'
import { earliestAlarm } from './alarm'
import { FanOut } from './fanout'
import { RoomOutbox } from './outbox'
import { RoomPresence } from './presence'
import { shipToOrigin } from './shipment'
import { RoomSockets } from './sockets'
import { RoomStore } from './store'

/** A room's parts, wired to its storage, its sockets and the config. */
export function assemble(ctx: DurableObjectState, config: EdgeConfig, roomId: () => string) {
  const store = new RoomStore(ctx.storage.sql)
  // Counts constructions: after hibernation or eviction a fresh instance starts here.
  store.setCounter('wakes', store.counter('wakes') + 1)
  const sockets = new RoomSockets(ctx, {
    rate: config.ROOM_FLOOD_PER_SECOND,
    burst: config.ROOM_FLOOD_BURST,
    typingIntervalMs: config.ROOM_TYPING_INTERVAL_MS,
  })
  const fanout = new FanOut(
    () => sockets.all(),
    store,
    config.ROOM_BROADCAST_INTERVAL_MS,
    store.seq,
    { maxMessages: config.ROOM_REPLAY_MAX_MESSAGES, maxBytes: config.ROOM_REPLAY_MAX_BYTES },
  )
  const alarm = earliestAlarm(ctx.storage)
  const outbox: RoomOutbox = new RoomOutbox(
    store,
    (batch) => shipToOrigin(config, roomId())(batch),
    alarm,
    {
      batch: config.ROOM_SHIP_BATCH,
      concurrency: config.ROOM_SHIP_CONCURRENCY,
      delayMs: config.ROOM_SHIP_DELAY_MS,
      maxBackoffMs: config.ROOM_SHIP_MAX_BACKOFF_MS,
      window: config.ROOM_WINDOW,
    },
    {
      shipFailed: ({ attempt, retryInMs, error }) =>
        log('warn', 'room outbox: shipping failed; will retry', {
          room: roomId(),
          attempt,
          retryInMs,
          unshipped: outbox.size,
          ...errorFields(error),
        }),
      setAside: (info) =>
        log('error', 'room outbox: the origin refused a shipment; its messages are set aside', {
          room: roomId(),
          ...info,
        }),
    },
  )
  const presence = new RoomPresence(sockets, (frame) => fanout.broadcast(frame), {
    listMax: config.ROOM_PRESENCE_LIST_MAX,
    countIntervalMs: config.ROOM_PRESENCE_COUNT_INTERVAL_MS,
  })
  return { store, sockets, fanout, outbox, presence, alarm }
}
