/** One instruction of a Dockerfile, continuation lines joined, in its stage. */
export interface Instruction {
  stage: number
  /** The stage's name (`FROM … AS name`), if any. */
  stageName: string | undefined
  keyword: string
  args: string
}

/** The instructions of a Dockerfile (comments and parser directives dropped). */
export function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ')
  const out: Instruction[] = []
  let stage = -1
  let stageName: string | undefined
  for (const raw of joined.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [keyword = '', ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    if (keyword.toUpperCase() === 'FROM') {
      stage += 1
      stageName = /\bAS\s+(\S+)/i.exec(args)?.[1]
    }
    out.push({ stage, stageName, keyword: keyword.toUpperCase(), args })
  }
  return out
}

/** An exec-form argument list (`["node", "x.js"]`) as an array; null for the shell form. */
export function execForm(args: string): string[] | null {
  const json = args.trim()
  if (!json.startsWith('[')) return null
  return JSON.parse(json) as string[]
}
