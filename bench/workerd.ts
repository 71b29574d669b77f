import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Sums `read(pid)` over every running workerd process (the edge and its rooms share one). */
function sumOverWorkerd(read: (pid: string) => number): number {
  let pids: string[] = []
  try {
    pids = execFileSync('pgrep', ['-x', 'workerd'], { encoding: 'utf8' }).trim().split('\n')
  } catch {
    return 0
  }
  let total = 0
  for (const pid of pids.filter(Boolean)) {
    try {
      total += read(pid)
    } catch {
      // exited meanwhile
    }
  }
  return total
}

/** CPU seconds used so far by workerd (utime + stime, in clock ticks of 1/100 s). */
export const workerdCpuSeconds = () =>
  sumOverWorkerd((pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(fields[11]) + Number(fields[12])
  }) / 100

/** KB a socket of what workerd holds above `before` (bytes, as `workerdRss` reads them). */
export const perSocketKb = (rss: number, before: number, sockets: number) =>
  Math.round((rss - before) / sockets / 102.4) / 10

/** Resident memory of workerd, bytes. */
export const workerdRss = () =>
  sumOverWorkerd((pid) => {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)
    return Number(line?.[1] ?? 0) * 1024
  })

/** The `q` quantile of `list`, rounded to `digits` decimals. */
export function quantile(list: number[], q: number, digits = 0): number {
  const sorted = [...list].sort((a, b) => a - b)
  const f = 10 ** digits
  return Math.round((sorted[Math.floor(q * (sorted.length - 1))] ?? 0) * f) / f
}
