import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The SDK as an app installs it: built into client/dist (ESM + declarations), no sources.
const root = fileURLToPath(new URL('../../..', import.meta.url))
const dist = join(root, 'client', 'dist')

describe('@plaza/client package', () => {
  it('builds to one ESM file with type declarations a strict TypeScript app compiles against', async () => {
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'dev', 'build-client.ts')], {
      cwd: root,
      stdio: 'pipe',
    })
    const sdk = await import(join(dist, 'index.js'))
    expect(typeof sdk.Plaza).toBe('function')
    expect(typeof sdk.RoomConnection).toBe('function')
    expect(sdk.PROTOCOL).toBe('plaza.v1')
    expect(sdk.closeCodes).toMatchObject({ unauthorized: 4401, forbidden: 4403, flooding: 4429 })

    const consumer = join(dist, 'consumer-check.ts')
    writeFileSync(
      consumer,
      `import { Plaza, type MessageFrame } from './index'
const plaza = new Plaza({ baseUrl: 'http://127.0.0.1:8787', getToken: () => 'token' })
const room = plaza.room('01JD3Q6Z8Y0000000000000001', { lastSeq: 0 })
room.on('message', (m: MessageFrame) => m.seq.toFixed())
room.on('presence', (p) => p.users.map((u) => u.name))
const ack: Promise<{ seq: number }> = room.send('hi')
void ack
// @ts-expect-error: events are typed
room.on('nope', () => {})
`,
    )
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'esnext',
        '--moduleResolution',
        'bundler',
        '--lib',
        'es2022,dom',
        '--skipLibCheck',
        consumer,
      ],
      { cwd: root, stdio: 'pipe' },
    )
  }, 60_000)
})
