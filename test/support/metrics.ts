/** The value of one series in Prometheus text (labels matched as a subset), or 0 when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) && want.length === 0) return Number(line.split(' ').at(-1))
    if (!line.startsWith(`${name}{`)) continue
    const inside = line.slice(name.length + 1, line.indexOf('}'))
    if (want.every((w) => inside.split(',').includes(w))) return Number(line.split(' ').at(-1))
  }
  return 0
}

/** One scrape of the origin's `/metrics`, read as `sample` does. */
export async function scrape(url: string) {
  const text = await (await fetch(url)).text()
  return (name: string, labels: Record<string, string> = {}) => sample(text, name, labels)
}
