import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseUrl } from '../../support/env'
import { type OriginProcess, repoRoot, startOrigin } from '../../support/origin'

// The road to production, first piece: `npm run build` compiles the origin to plain JS, and
// a production install of it — package files, dist/, migrations/, `npm ci --omit=dev`, what
// the image does — migrates a database and serves /health and /ready with `npm start`'s
// command, no tsx and no dev dependency anywhere.
const dir = mkdtempSync(join(tmpdir(), 'plaza-build-'))
const url = databaseUrl('plaza_build')
let origin: OriginProcess | undefined

beforeAll(async () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'dev/build.ts'], { cwd: repoRoot })
  for (const path of ['package.json', 'package-lock.json', 'dist', 'migrations'])
    cpSync(join(repoRoot, path), join(dir, path), { recursive: true })
  execFileSync(
    'npm',
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: dir, stdio: 'pipe' },
  )
  // An empty server for the built migrator: the database does not exist yet.
  const server = await mysql.createConnection({ uri: databaseUrl('mysql') })
  await server.query('DROP DATABASE IF EXISTS plaza_build')
  await server.end()
}, 240_000)

afterAll(async () => {
  await origin?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const script = (name: string) => {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const [program, ...args] = (pkg.scripts[name] as string).split(' ')
  expect(program).toBe('node')
  return args
}

describe('the production build', () => {
  it('installs without dev dependencies: no tsx, no esbuild, no wrangler', () => {
    for (const dev of ['tsx', 'esbuild', 'wrangler', 'vitest', 'typescript']) {
      expect(() => readFileSync(join(dir, 'node_modules', dev, 'package.json'))).toThrow()
    }
    expect(readFileSync(join(dir, 'node_modules', 'hono', 'package.json'), 'utf8')).toContain(
      '"name": "hono"',
    )
  })

  it('migrates from the same install, then `npm start` serves /health and /ready', async () => {
    const out = execFileSync(process.execPath, script('db:migrate:built'), {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: url },
      encoding: 'utf8',
    })
    expect(out).toMatch(/migrations applied/)
    origin = await startOrigin(
      { EDGE_SIGNING_SECRET: 'build-test-secret-0123456789abcdef0123', DATABASE_URL: url },
      { cwd: dir, args: script('start') },
    )
    expect((await fetch(`${origin.url}/health`)).status).toBe(200)
    const ready = await fetch(`${origin.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', down: [] })
    expect(await origin.stop()).toBe(0)
    origin = undefined
  })
})
