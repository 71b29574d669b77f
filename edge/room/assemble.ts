import type { EdgeConfig } from '../../shared/config'
import { closeCodes } from '../../shared/protocol'
import type { RoomReport } from '../../shared/room-signals'
import { errorFields, log } from '../log'
import type { Relay } from '../relay'
import { relayFor } from '../relay/name'
import { earliestAlarm } from './alarm'
import { FanOut } from './fanout'
import { numbering } from './numbering'
import { type Courier, RoomOutbox } from './outbox'
import { RoomPresence } from './presence'
import { RoomSignals } from './signals'
import { closeSocket, RoomSockets } from './sockets'
import { RoomStore } from './store'
import { UnreadBound } from './unread'

/** The room's relay, picked by its id. */
function courierOf(
  relays: DurableObjectNamespace<Relay>,
  config: EdgeConfig,
  roomId: () => string,
): Courier & { report(report: RoomReport): Promise<void> } {
  // One stub, reused; a call that fails may have broken it, so the next gets a new one.
  let stub: DurableObjectStub<Relay> | undefined
  const call = async <T>(use: (relay: DurableObjectStub<Relay>) => Promise<T>): Promise<T> => {
    stub ??= relays.getByName(relayFor(roomId(), config.RELAY_COUNT, config.EDGE_NODE))
    try {
      return await use(stub)
    } catch (err) {
      stub = undefined
      throw err
    }
  }
  return {
    take: (batch, since) => call((relay) => relay.take(roomId(), batch, since)),
    landing: (since) => call((relay) => relay.landing(roomId(), since)),
    report: (report) => call((relay) => relay.report(roomId(), report)),
  }
}

/** A room's parts, wired to its storage, its sockets, its relay and the config. */
export function assemble(
  ctx: DurableObjectState,
  config: EdgeConfig,
  relays: DurableObjectNamespace<Relay>,
  roomId: () => string,
) {
  const store = new RoomStore(ctx.storage.sql)
  // Counts constructions: after hibernation or eviction a fresh instance starts here.
  store.setCounter('wakes', store.counter('wakes') + 1)
  const sockets = new RoomSockets(ctx, {
    rate: config.ROOM_FLOOD_PER_SECOND,
    burst: config.ROOM_FLOOD_BURST,
    typingIntervalMs: config.ROOM_TYPING_INTERVAL_MS,
  })
  const unread = new UnreadBound<WebSocket>(config.ROOM_SOCKET_MAX_UNREAD_BYTES, (ws) => {
    log('warn', 'room: closed a socket that stopped reading', {
      room: roomId(),
      user: sockets.attachmentOf(ws)?.user.id,
      maxUnreadBytes: config.ROOM_SOCKET_MAX_UNREAD_BYTES,
    })
    closeSocket(ws, closeCodes.notReading, 'not reading: too many unread bytes')
  })
  const fanout = new FanOut(
    () => sockets.all(),
    store,
    config.ROOM_BROADCAST_INTERVAL_MS,
    store.seq,
    { maxMessages: config.ROOM_REPLAY_MAX_MESSAGES, maxBytes: config.ROOM_REPLAY_MAX_BYTES },
    (peer, data, bytes) => unread.deliver(peer as WebSocket, data, bytes),
  )
  const alarm = earliestAlarm(ctx.storage)
  const courier = courierOf(relays, config, roomId)
  const signals = new RoomSignals(
    () => sockets.all().length,
    (report) => courier.report(report),
    config.SIGNALS_INTERVAL_MS,
  )
  const outbox: RoomOutbox = new RoomOutbox(
    store,
    courier,
    alarm,
    {
      batch: config.ROOM_SHIP_BATCH,
      delayMs: config.ROOM_SHIP_DELAY_MS,
      checkMs: config.ROOM_LANDED_CHECK_MS,
      safetyMs: config.ROOM_SHIP_SAFETY_MS,
      maxBackoffMs: config.ROOM_SHIP_MAX_BACKOFF_MS,
      window: config.ROOM_WINDOW,
      // Pruning lags by at most this much (a small window keeps its promise).
      pruneEvery: Math.min(64, config.ROOM_WINDOW),
      limit: config.ROOM_OUTBOX_LIMIT,
    },
    {
      shipFailed: ({ attempt, retryInMs, error }) =>
        log('warn', 'room outbox: handing over to the relay failed; will retry', {
          room: roomId(),
          attempt,
          retryInMs,
          unshipped: outbox.size,
          ...errorFields(error),
        }),
    },
  )
  const presence = new RoomPresence(sockets, (frame) => fanout.broadcast(frame), {
    listMax: config.ROOM_PRESENCE_LIST_MAX,
    countIntervalMs: config.ROOM_PRESENCE_COUNT_INTERVAL_MS,
  })
  const parts = { store, sockets, unread, fanout, outbox, presence, alarm, signals }
  return { ...parts, numbering: numbering(ctx, config, roomId, parts) }
}
