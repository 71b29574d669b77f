import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { TestProject } from 'vitest/node'

export interface EdgeStack {
  originUrl: string
  upstashUrl: string
  upstashToken: string
  databaseReadUrl: string
  signingSecret: string
  jwtJwks: string
  /** For tests that mint their own (expired, mis-issued…) tokens. */
  jwtPrivateJwk: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    edgeStack: EdgeStack
  }
}

// Runs in Node before the workerd tests: the real parts the edge talks to, in a child process.
export default async function setup(project: TestProject) {
  const root = new URL('../..', import.meta.url)
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/serve-parts.ts', 'plaza_edge_test'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const lines = createInterface({ input: child.stdout })
  const stack = await new Promise<EdgeStack>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve-parts exited with ${code}`)))
    lines.on('line', (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as EdgeStack)
    })
  })
  project.provide('edgeStack', stack)
  return async () => {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}
