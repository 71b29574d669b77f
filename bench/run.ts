import { cpus } from 'node:os'
import { benchEdgeCeiling } from './edge-ceiling'
import { benchExport } from './export'
import { benchFanout } from './fanout'
import { benchFill } from './fill'
import { benchIngest } from './ingest'
import { benchMixed } from './mixed'
import { benchOrigin } from './origin'
import { benchReadPath } from './read-path'
import { benchSends } from './sends'
import { benchSlowReaders } from './slow-readers'
import { benchSmallRooms, type SmallRoomsRow, sustained } from './small-rooms'
import { benchStandIns } from './standins'

// `npm run bench [-- section…]`: every benchmark (or the named sections: standins, read,
// origin, small, mixed, sends, fill, readers, ingest, fanout, export), one after another, on 127.0.0.1 only; prints Markdown tables.
const sections = [
  'standins',
  'read',
  'origin',
  'small',
  'mixed',
  'sends',
  'fill',
  'readers',
  'ingest',
  'fanout',
  'export',
] as const
const asked = process.argv.slice(2)
for (const a of asked) {
  if (!(sections as readonly string[]).includes(a)) {
    console.error(`unknown section "${a}"; choose from: ${sections.join(', ')}`)
    process.exit(2)
  }
}
const want = (s: (typeof sections)[number]) => !asked.length || asked.includes(s)

const started = new Date()
console.log(
  `plaza bench — ${started.toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
)
const problems: string[] = []

if (want('standins')) {
  console.log('stand-ins:')
  const results = await benchStandIns()
  console.log('for scale:')
  results.push(await benchEdgeCeiling(50, 10))
  console.log(
    '\n| benchmark | requests | req/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|---|',
  )
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.requests} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${r.errors} |`,
    )
    if (r.errors > 0) problems.push(r.name)
  }
}

if (want('origin')) {
  console.log('\norigin vs Express, same work:')
  const origin = await benchOrigin()
  console.log('\n| target | req/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|')
  for (const r of origin.rows) {
    console.log(`| ${r.name} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${r.failed} |`)
    if (r.failed > 0) problems.push(r.name)
  }
  console.log(`origin / Express (sum of rounds): ${origin.ratio.toFixed(2)}× req/s`)
}

if (want('small')) {
  console.log('\nmany small rooms (rooms × members, one sender per room):')
  const result = await benchSmallRooms()
  console.log(
    '\n| system | msgs/s offered | deliveries/s | p50 ms | p99 ms | lost | refused | CPU (share of a core) |\n|---|---|---|---|---|---|---|---|',
  )
  const all: SmallRoomsRow[] = [
    ...result.plaza.rows,
    ...result.ephemeral.rows,
    ...result.persisted.rows,
  ]
  for (const r of all) {
    const cpu = Object.entries(r.cpu)
      .filter(([, v]) => v >= 0.01)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    console.log(
      `| ${r.system} | ${r.rate} | ${r.deliveriesPerSecond} | ${r.p50} | ${r.p99} | ${r.lost} | ${r.refused} | ${cpu} |`,
    )
  }
  for (const note of [...result.plaza.notes, ...result.persisted.notes]) console.log(`- ${note}`)
  const best = {
    plaza: sustained(result.plaza.rows),
    ephemeral: sustained(result.ephemeral.rows),
    persisted: sustained(result.persisted.rows),
  }
  console.log(
    `sustained (p99 < 200 ms, nothing lost): Plaza ${best.plaza} msgs/s; Socket.IO ephemeral ${best.ephemeral}; Socket.IO persisted ${best.persisted}`,
  )
}

if (want('mixed')) {
  console.log("\nthe seeds' mixed load (70 % chat, 30 % reads), in phases of arrivals:")
  const rows = await benchMixed()
  console.log(
    '\n| phase | arrivals/s | requests | p50 ms | p95 ms (< 500) | p99 ms | errors % (< 0.1) | cache hits % (≥ 85) |\n|---|---|---|---|---|---|---|---|',
  )
  for (const r of rows) {
    console.log(
      `| ${r.phase} | ${r.arrivalsPerSecond} | ${r.requests} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errorRate} | ${r.hitRate} |`,
    )
    if (r.errorRate > 0) problems.push(`mixed: ${r.phase}`)
  }
}

if (want('sends')) {
  console.log('\none room, sends:')
  const rows = await benchSends()
  console.log(
    '\n| sends | per second | p50 ms | p99 ms | refused | workerd CPU ms per send |\n|---|---|---|---|---|---|',
  )
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.sendsPerSec} | ${r.p50} | ${r.p99} | ${r.refused} | ${r.cpuMsPerSend} |`,
    )
  }
}

if (want('fill')) {
  console.log('\none room, filling:')
  const f = await benchFill()
  const dash = (kb?: number) => (kb === undefined ? '—' : String(kb))
  const over = (kb?: number, floor?: number) =>
    kb === undefined || floor === undefined ? '—' : String(Math.round((kb - floor) * 10) / 10)
  console.log(
    '\n| sockets | fill s | broadcast p50 ms | broadcast p99 ms | workerd RSS before MB | after MB | per socket KB | idle, per socket KB | idle, collected KB |\n|---|---|---|---|---|---|---|---|---|',
  )
  console.log(
    `| ${f.sockets} | ${f.fillSeconds} | ${f.broadcastP50} | ${f.broadcastP99} | ${f.rssBeforeMb} | ${f.rssAfterMb} | ${f.rssPerSocketKb} | ${f.idlePerSocketKb} | ${dash(f.collectedPerSocketKb)} |`,
  )
  console.log(
    "\n| the runtime's floor, per socket | fill s | idle KB | idle, collected KB | Plaza above it, idle KB | Plaza above it, collected KB |\n|---|---|---|---|---|---|",
  )
  for (const [name, floor] of [
    ['a minimal hibernating object, the welcome only', f.floor],
    ["the same, sent the five frames Plaza's sockets got", f.floorBroadcast],
  ] as const) {
    console.log(
      `| ${name} | ${floor.fillSeconds} | ${floor.idleKb} | ${dash(floor.collectedKb)} | ${over(f.idlePerSocketKb, floor.idleKb)} | ${over(f.collectedPerSocketKb, floor.collectedKb)} |`,
    )
  }
}

if (want('readers')) {
  console.log('\none busy room, 10 sockets that stop reading and 10 that also flood resume:')
  const rows = await benchSlowReaders()
  console.log(
    '\n| unread bound | offered per socket MB | workerd RSS before MB | peak MB | after MB | kernel TCP buffers, peak MB | closed 4408 |\n|---|---|---|---|---|---|---|',
  )
  for (const r of rows) {
    console.log(
      `| ${r.bound} | ${r.offeredPerSocketMb} | ${r.rssBeforeMb} | ${r.rssPeakMb} | ${r.rssAfterMb} | ${r.tcpPeakMb} | ${r.closed4408} of ${r.sockets} |`,
    )
  }
}

if (want('read')) {
  console.log('\nread path:')
  const read = await benchReadPath()
  console.log('\n| read path | req/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|')
  for (const r of read.rows) {
    console.log(`| ${r.name} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${r.failed} |`)
    if (r.failed > 0) problems.push(r.name)
  }
  const byName = Object.fromEntries(read.rows.map((r) => [r.name, r]))
  const hit = byName['edge HIT']
  for (const other of read.rows) {
    if (hit && other !== hit)
      console.log(
        `edge HIT / ${other.name}: ${(hit.reqPerSec / other.reqPerSec).toFixed(2)}× req/s`,
      )
  }
  const l = read.latency
  const ownWork =
    (l['edge HIT']?.p50 ?? 0) -
    (l['bare Worker']?.p50 ?? 0) -
    (l['Upstash pipeline EVALSHA+GET+GET']?.p50 ?? 0)
  console.log(`edge's own work on a HIT (unloaded p50s): ${ownWork.toFixed(3)} ms`)
}

if (want('ingest')) {
  console.log('\ningest (messages persisted per second into MariaDB):')
  const rows = await benchIngest()
  console.log('\n| ingest | messages | seconds | msgs/s stored |\n|---|---|---|---|')
  for (const r of rows)
    console.log(`| ${r.name} | ${r.messages} | ${r.seconds.toFixed(2)} | ${r.perSecond} |`)
  const naive = rows.find((r) => r.name.startsWith('naive'))
  const floor = rows.find((r) => r.name.startsWith('mysql2'))
  for (const batched of rows.filter((r) => r.name.startsWith('batched'))) {
    if (naive)
      console.log(`${batched.name} / naive: ${(batched.perSecond / naive.perSecond).toFixed(1)}×`)
    if (floor)
      console.log(
        `${batched.name} / mysql2 floor: ${(batched.perSecond / floor.perSecond).toFixed(1)}×`,
      )
  }
}

if (want('fanout')) {
  console.log('\nfan-out (one room, 1,000 subscribers in a separate process, 5 publishers):')
  const rows = await benchFanout()
  console.log(
    '\n| system | step | offered msgs/s | deliveries/s | p50 ms | p99 ms | lost | reordered | client CPU |\n|---|---|---|---|---|---|---|---|---|',
  )
  for (const r of rows) {
    console.log(
      `| ${r.system} | ${r.step} | ${r.offered} | ${r.deliveriesPerSecond} | ${r.p50} | ${r.p99} | ${r.lost} | ${r.reordered} | ${r.clientCpu} |`,
    )
  }
}

if (want('export')) {
  console.log('\nCSV export, streamed by one origin worker:')
  const rows = await benchExport()
  console.log(
    '\n| export | lines | seconds | MB | worker RSS before MB | peak MB | after MB |\n|---|---|---|---|---|---|---|',
  )
  for (const r of rows) {
    console.log(
      `| ${r.run} | ${r.lines} | ${r.seconds} | ${r.megabytes} | ${r.rssBeforeMb} | ${r.rssPeakMb} | ${r.rssAfterMb} |`,
    )
  }
}

if (problems.length) {
  console.error(`\n${problems.length} benchmark(s) lost or failed requests: ${problems.join(', ')}`)
  process.exit(1)
}
process.exit(0)
