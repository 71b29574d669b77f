import { cpus } from 'node:os'
import { benchEdgeCeiling } from './edge-ceiling'
import { benchReadPath } from './read-path'
import { benchStandIns } from './standins'

// `npm run bench`: every benchmark, one after another, on 127.0.0.1 only; prints a Markdown table.
const started = new Date()
console.log(
  `plaza bench — ${started.toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
)
console.log('stand-ins:')
const results = await benchStandIns()
console.log('for scale:')
results.push(await benchEdgeCeiling(50, 10))
console.log(
  '\n| benchmark | requests | req/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|---|',
)
for (const r of results)
  console.log(`| ${r.name} | ${r.requests} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${r.errors} |`)

console.log('\nread path:')
const read = await benchReadPath()
console.log('\n| read path | req/s | p50 ms | p99 ms | failed |\n|---|---|---|---|---|')
for (const r of read.rows)
  console.log(`| ${r.name} | ${r.reqPerSec} | ${r.p50} | ${r.p99} | ${r.failed} |`)
const byName = Object.fromEntries(read.rows.map((r) => [r.name, r]))
const hit = byName['edge HIT']
for (const other of read.rows) {
  if (hit && other !== hit)
    console.log(`edge HIT / ${other.name}: ${(hit.reqPerSec / other.reqPerSec).toFixed(2)}× req/s`)
}
const l = read.latency
const ownWork =
  (l['edge HIT']?.p50 ?? 0) -
  (l['bare Worker']?.p50 ?? 0) -
  (l['Upstash pipeline EVALSHA+GET+GET']?.p50 ?? 0)
console.log(`edge's own work on a HIT (unloaded p50s): ${ownWork.toFixed(3)} ms`)

const failed = [...results, ...read.rows.map((r) => ({ ...r, errors: r.failed }))].filter(
  (r) => r.errors > 0,
)
if (failed.length) {
  console.error(
    `\n${failed.length} benchmark(s) lost or failed requests: ${failed.map((r) => r.name).join(', ')}`,
  )
  process.exit(1)
}
process.exit(0)
