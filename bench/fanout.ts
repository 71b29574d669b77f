export interface FanoutRow {
  system: string
  step: string
  offered: number
  deliveriesPerSecond: number
  p50: number
  p99: number
  lost: number
  reordered: number
}
export async function benchFanout(): Promise<FanoutRow[]> {
  return []
}
