import { parseArgs } from 'node:util'
import { runCampaign } from './campaign'

// `npm run chaos -- --seed N --minutes M [--faults K] [--rooms R] [--members P]`: a fault
// campaign on 127.0.0.1 (private MariaDB and Redis); exits 1 on any violated invariant.
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    minutes: { type: 'string', default: '2' },
    faults: { type: 'string' },
    rooms: { type: 'string', default: '3' },
    members: { type: 'string', default: '3' },
  },
})
const minutes = Number(values.minutes)
const seed = Number(values.seed)
// Four faults a minute unless told otherwise (the issue's 10-minute campaign: 40).
const faults = Number(values.faults ?? Math.max(1, Math.round(minutes * 4)))
for (const [name, n] of Object.entries({ seed, minutes, faults })) {
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a number, got "${String(values[name as 'seed'])}"`)
    process.exit(2)
  }
}

const report = await runCampaign({
  seed,
  minutes,
  faults,
  rooms: Number(values.rooms),
  members: Number(values.members),
  log: (line) => console.log(line),
})
const byKind = new Map<string, number>()
for (const f of report.faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1)
console.log(
  `\nseed ${report.seed}: ${report.faults.length} faults (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')})`,
)
console.log(`acked ${report.acked}, stored ${report.stored}, delivered ${report.delivered}`)
console.log(`violations: ${report.violations.length}`)
for (const v of report.violations) console.log(`  ✗ ${v}`)
process.exit(report.violations.length ? 1 : 0)
