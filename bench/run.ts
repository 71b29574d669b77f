import { cpus } from 'node:os'
import { benchEdgeCeiling } from './edge-ceiling'
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
const failed = results.filter((r) => r.errors > 0)
if (failed.length) {
  console.error(
    `\n${failed.length} benchmark(s) lost or failed requests: ${failed.map((r) => r.name).join(', ')}`,
  )
  process.exit(1)
}
process.exit(0)
