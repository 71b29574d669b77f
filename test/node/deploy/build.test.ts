import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execForm, parseDockerfile } from '../../support/dockerfile'
import { databaseUrl } from '../../support/env'
import { type OriginProcess, repoRoot, startOrigin } from '../../support/origin'

// The road to production, first piece: `npm run build` compiles the origin to plain JS, and
// a production install of it — what deploy/image/Dockerfile's runtime stage holds, installed
// with its own `npm ci` line — migrates a database and serves /health and /ready with the
// image's CMD (`npm start`'s command), no tsx and no dev dependency anywhere. No Docker
// engine runs here: the rest of the Dockerfile is checked against the repository.
const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'deploy/image/Dockerfile'), 'utf8'))
const runtime = dockerfile.filter((i) => i.stage === Math.max(...dockerfile.map((d) => d.stage)))
const dir = mkdtempSync(join(tmpdir(), 'plaza-build-'))
const url = databaseUrl('plaza_build')
let origin: OriginProcess | undefined

beforeAll(async () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'dev/build.ts'], { cwd: repoRoot })
  for (const path of ['package.json', 'package-lock.json', 'dist', 'migrations'])
    cpSync(join(repoRoot, path), join(dir, path), { recursive: true })
  // The deps stage's install, as the image runs it (from the npm cache when it can).
  const install = dockerfile.find((i) => i.stageName === 'deps' && i.keyword === 'RUN')!
  const [npm, ...args] = install.args.split(' ')
  expect(npm).toBe('npm')
  execFileSync('npm', [...args, '--prefer-offline'], { cwd: dir, stdio: 'pipe' })
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
  it("the image: non-root, COPYs what exists after the build, CMD is npm start's, HEALTHCHECK /health", () => {
    for (const copy of dockerfile.filter(
      (i) => i.keyword === 'COPY' && !i.args.includes('--from'),
    )) {
      const sources = copy.args
        .split(' ')
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1)
      for (const source of sources) expect(existsSync(join(repoRoot, source)), source).toBe(true)
    }
    const copiedFromBuild = runtime.filter(
      (i) => i.keyword === 'COPY' && i.args.includes('--from=build'),
    )
    expect(copiedFromBuild.map((i) => i.args)).toEqual([
      expect.stringContaining('/app/dist ./dist'),
    ])
    expect(existsSync(join(repoRoot, 'dist/origin.js'))).toBe(true)
    const user = runtime.find((i) => i.keyword === 'USER')?.args
    expect(user).toBeDefined()
    expect(['root', '0']).not.toContain(user)
    const cmd = execForm(runtime.find((i) => i.keyword === 'CMD')!.args)
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    expect(cmd?.join(' ')).toBe(pkg.scripts.start)
    expect(runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args).toContain("+'/health'")
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n')
    for (const never of ['node_modules', '.git', '.env', 'dist']) expect(ignored).toContain(never)
  })

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
      { cwd: dir, args: execForm(runtime.find((i) => i.keyword === 'CMD')!.args)!.slice(1) },
    )
    expect((await fetch(`${origin.url}/health`)).status).toBe(200)
    const ready = await fetch(`${origin.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', down: [] })
    expect(await origin.stop()).toBe(0)
    origin = undefined
  })
})
