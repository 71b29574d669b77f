import { Counter, Gauge } from 'prom-client'
import { edgeSignals } from '../../shared/edge-signals'
import { relayGauges } from '../../shared/room-signals'

/** The three hashes the edge, the rooms and the relays write (shared/*-signals.ts). */
export interface SignalHashes {
  edge: Record<string, string>
  rooms: Record<string, string>
  relays: Record<string, string>
}

type Labels = Record<string, string>

/**
 * The edge's and the rooms' signals, read from Redis at each scrape: one read of the three
 * hashes shared by every metric below while it is in flight (the next scrape reads
 * afresh). Every worker reads the same hashes, so the primary takes one worker's value
 * (`max`), not their sum. Redis down: the series read 0 until it is back.
 */
export function signalMetrics(readAll: () => Promise<SignalHashes>, now = Date.now): void {
  let inFlight: Promise<SignalHashes | null> | undefined
  const read = () => {
    inFlight ??= readAll()
      .catch(() => null)
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
  /** A counter whose series (its labels) are fields of one hash. */
  const counter = (
    name: string,
    help: string,
    hash: keyof SignalHashes,
    series: Array<[Labels, string]>,
  ) =>
    new Counter({
      name,
      help,
      labelNames: Object.keys(series[0]?.[0] ?? {}),
      aggregator: 'max',
      async collect() {
        const all = (await read())?.[hash]
        this.reset()
        for (const [labels, field] of series) this.inc(labels, Number(all?.[field] ?? 0))
      },
    })
  edgeCounters(counter)
  counter(
    'plaza_room_messages_accepted_total',
    'Messages the rooms numbered and stored (WebSocket and HTTP sends)',
    'rooms',
    [[{}, 'accepted']],
  )
  counter(
    'plaza_room_replays_total',
    'Replays the rooms served to sockets that reconnected or resumed, and the gap frames among them',
    'rooms',
    [
      [{ frames: 'replay' }, 'replays'],
      [{ frames: 'gap' }, 'gaps'],
    ],
  )
  counter(
    'plaza_relay_shipments_total',
    'Shipments the relays sent to the origin, and those that failed (retried with backoff)',
    'rooms',
    [
      [{ outcome: 'sent' }, 'shipments'],
      [{ outcome: 'failed' }, 'shipments_failed'],
    ],
  )
  relayMetrics(read, now)
}

type CounterOf = (
  name: string,
  help: string,
  hash: keyof SignalHashes,
  series: Array<[Labels, string]>,
) => Counter

function edgeCounters(counter: CounterOf): void {
  counter(
    'plaza_edge_cache_reads_total',
    "The edge's cached reads by outcome (HIT, MISS, STALE, BYPASS), all isolates",
    'edge',
    edgeSignals.cache.map((status) => [{ status }, `cache:${status}`]),
  )
  counter(
    'plaza_edge_rate_limit_checks_total',
    "The edge's rate-limit checks by verdict (allowed, refused, fail_open)",
    'edge',
    edgeSignals.rateLimit.map((verdict) => [{ verdict }, `rate_limit:${verdict}`]),
  )
  counter(
    'plaza_edge_breaker_events_total',
    "The edge's circuit breakers: opened, closed, calls refused while open, by dependency",
    'edge',
    edgeSignals.breakerDependencies.flatMap((dependency) =>
      edgeSignals.breakerEvents.map((event): [Labels, string] => [
        { dependency, event },
        `breaker:${dependency}:${event}`,
      ]),
    ),
  )
}

/** The relays' gauges, combined over relays: sums, the fullest room, the oldest message. */
function relayMetrics(read: () => Promise<SignalHashes | null>, now: () => number): void {
  const perRelay = async () => {
    const all = (await read())?.relays ?? {}
    const relays = new Map<string, Record<string, number>>()
    for (const [field, value] of Object.entries(all)) {
      const cut = field.lastIndexOf(':')
      const gauge = field.slice(cut + 1)
      if (!(relayGauges as readonly string[]).includes(gauge)) continue
      const relay = relays.get(field.slice(0, cut)) ?? {}
      relay[gauge] = Number(value)
      relays.set(field.slice(0, cut), relay)
    }
    return [...relays.values()]
  }
  const gauge = (name: string, help: string, of: (relays: Record<string, number>[]) => number) =>
    new Gauge({
      name,
      help,
      aggregator: 'max',
      async collect() {
        this.set(of(await perRelay()))
      },
    })
  const sum = (key: string) => (relays: Record<string, number>[]) =>
    relays.reduce((n, r) => n + (r[key] ?? 0), 0)
  gauge(
    'plaza_room_sockets_open',
    'Open WebSockets in all rooms, as the rooms last reported',
    sum('sockets'),
  )
  gauge(
    'plaza_room_sockets_max',
    'Open WebSockets in the fullest room (one Durable Object holds at most 32,768)',
    (relays) => Math.max(0, ...relays.map((r) => r.max_room_sockets ?? 0)),
  )
  gauge(
    'plaza_outbox_messages',
    'Messages acked by their rooms and waiting at the relays for MySQL',
    sum('held'),
  )
  gauge(
    'plaza_outbox_oldest_age_seconds',
    'Age of the oldest acked message not yet in MySQL (0: none waiting)',
    (relays) => {
      const oldest = relays.map((r) => r.oldest_at ?? 0).filter((at) => at > 0)
      return oldest.length ? Math.max(0, (now() - Math.min(...oldest)) / 1000) : 0
    },
  )
}
