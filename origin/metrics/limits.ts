import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'
import { Gauge } from 'prom-client'

/** A cgroup v2 file's first line, or null outside a container or where it is not limited. */
function cgroup(file: string): string | null {
  try {
    const line = readFileSync(`/sys/fs/cgroup/${file}`, 'utf8').trim()
    return line.startsWith('max') ? null : line
  } catch {
    return null
  }
}

/**
 * What the origin may use: the container's limits (cgroup v2: memory.max, cpu.max) where
 * it runs in one, the machine's otherwise. The alerts divide the workers' summed memory
 * and CPU by these (seed 002: memory over 85 %, CPU over 80 %).
 */
export function resourceLimits(): { memoryBytes: number; cpus: number } {
  const memory = cgroup('memory.max')
  const cpu = cgroup('cpu.max')?.split(' ')
  return {
    memoryBytes: memory ? Number(memory) : totalmem(),
    cpus: cpu ? Number(cpu[0]) / Number(cpu[1]) : availableParallelism(),
  }
}

/** The limits, and each worker's own resident memory (the cluster's sum hides which one grows). */
export function resourceMetrics(): void {
  const limits = resourceLimits()
  new Gauge({
    name: 'plaza_origin_limit',
    help: "What the origin may use: memory in bytes and CPUs (the container's limits, else the machine's)",
    labelNames: ['resource'] as const,
    aggregator: 'max',
    collect() {
      this.set({ resource: 'memory_bytes' }, limits.memoryBytes)
      this.set({ resource: 'cpus' }, limits.cpus)
    },
  })
  new Gauge({
    name: 'plaza_worker_resident_memory_bytes',
    help: "Each origin worker's resident memory, by cluster worker id",
    labelNames: ['worker'] as const,
    collect() {
      this.set({ worker: String(cluster.worker?.id ?? 0) }, process.memoryUsage.rss())
    },
  })
}
