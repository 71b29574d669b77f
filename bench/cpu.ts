import { readdirSync, readFileSync } from 'node:fs'

/** Which processes make up a role, by their command line (e.g. `workerd`, `origin/main`). */
export type Roles = Record<string, RegExp>

/** CPU seconds (utime + stime) used so far by every running process of each role. */
export function cpuByRole(roles: Roles): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(roles).map((r) => [r, 0]))
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      const role = Object.keys(roles).find((r) => roles[r]!.test(cmd))
      if (!role) continue
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      totals[role]! += (Number(fields[11]) + Number(fields[12])) / 100
    } catch {
      // exited meanwhile
    }
  }
  return totals
}

/** The share of one core each role used between two readings `seconds` apart. */
export function cpuShares(
  before: Record<string, number>,
  after: Record<string, number>,
  seconds: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((r) => [
      r,
      Math.round(((after[r]! - (before[r] ?? 0)) / Math.max(seconds, 0.001)) * 100) / 100,
    ]),
  )
}
