import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { originConfigSchema } from '../../../shared/config'
import { ensureDebianPackage } from '../../support/debian'
import { repoRoot } from '../../support/origin'

// The one-VM tier (deploy/compose): no Docker engine runs here, so compose.yaml is checked
// by Debian's docker-compose against the Compose schema (`config` needs no engine), then
// cross-checked against the repository: what it mounts exists, what it passes the origin
// is its config, every service that stays up has a healthcheck, a restart policy and limits.
const dir = join(repoRoot, 'deploy/compose')
// A copy of deploy/ with .env made from .env.example, as a user starts (cp .env.example .env).
const copy = mkdtempSync(join(tmpdir(), 'plaza-compose-'))
const copied = join(copy, 'deploy/compose')

beforeAll(() => {
  ensureDebianPackage('docker-compose', ['docker-compose'])
  cpSync(join(repoRoot, 'deploy'), join(copy, 'deploy'), { recursive: true })
  cpSync(join(copied, '.env.example'), join(copied, '.env'))
}, 300_000)

afterAll(() => rmSync(copy, { recursive: true, force: true }))

const config = (file: string) =>
  execFileSync('docker-compose', ['--project-directory', copied, '-f', file, 'config'], {
    cwd: copied,
    encoding: 'utf8',
    stdio: 'pipe',
  })

describe('deploy/compose', () => {
  it('is a valid Compose file (and a misspelled key is not)', () => {
    expect(() => config(join(dir, 'compose.yaml'))).not.toThrow()
    const tmp = mkdtempSync(join(tmpdir(), 'plaza-compose-'))
    try {
      const broken = join(tmp, 'compose.yaml')
      writeFileSync(
        broken,
        readFileSync(join(dir, 'compose.yaml'), 'utf8').replace('healthcheck:', 'healthchek:'),
      )
      expect(() => config(broken)).toThrow(/healthchek/)
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  it('runs three origins behind nginx with MariaDB, Redis, Prometheus and Grafana, each watched and bounded', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the resolved Compose model, as YAML.
    const model = parse(config(join(copied, 'compose.yaml'))) as { services: Record<string, any> }
    const services = model.services
    for (const name of [
      'origin-1',
      'origin-2',
      'origin-3',
      'nginx',
      'mariadb',
      'redis',
      'prometheus',
      'grafana',
    ])
      expect(services[name], name).toBeDefined()
    for (const [name, s] of Object.entries(services)) {
      if (name === 'migrate') continue
      expect(s.healthcheck?.test, `${name} healthcheck`).toBeDefined()
      expect(s.restart, `${name} restart`).toBe('unless-stopped')
      expect(s.deploy?.resources?.limits?.memory, `${name} memory limit`).toBeDefined()
    }
    const known = new Set(Object.keys(originConfigSchema.shape))
    for (const name of ['origin-1', 'origin-2', 'origin-3']) {
      for (const env of Object.keys(services[name].environment)) expect(known, env).toContain(env)
      expect(services[name].depends_on.migrate.condition).toBe('service_completed_successfully')
    }
    const nginx = readFileSync(join(dir, 'plaza.conf'), 'utf8')
    for (const name of ['origin-1', 'origin-2', 'origin-3'])
      expect(nginx).toContain(`server ${name}:8788`)
    // Every file it mounts exists in the repository.
    for (const s of Object.values(services)) {
      for (const volume of s.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source
        if (source?.startsWith('/') || source?.startsWith('.'))
          expect(existsSync(resolve(dir, source)), source).toBe(true)
      }
    }
  })

  it('.env.example names only what compose.yaml or the origin reads', () => {
    const names = readFileSync(join(dir, '.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0]!)
    const compose = readFileSync(join(dir, 'compose.yaml'), 'utf8')
    const known = new Set(Object.keys(originConfigSchema.shape))
    for (const name of names) {
      const read =
        known.has(name) || compose.includes(`\${${name}`) || name === 'COMPOSE_PROJECT_NAME'
      expect(read, name).toBe(true)
    }
  })
})

describe('deploy/swarm', () => {
  it('is a valid stack file: rolled start-first, rolled back on failure, healthchecked, bounded, secrets from Swarm', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the resolved Compose model, as YAML.
    const model = parse(config(join(copy, 'deploy/swarm/stack.yaml'))) as any
    const origin = model.services.origin
    expect(origin.deploy.replicas).toBe(3)
    expect(origin.deploy.update_config).toMatchObject({
      order: 'start-first',
      failure_action: 'rollback',
    })
    expect(origin.healthcheck.test.join(' ')).toContain('/health')
    expect(origin.deploy.resources.limits.memory).toBeDefined()
    const known = new Set(Object.keys(originConfigSchema.shape))
    for (const env of Object.keys(origin.environment)) expect(known, env).toContain(env)
    for (const secret of Object.values(model.secrets))
      expect(secret).toMatchObject({ external: true })
    // Each secret file becomes the config variable of its name.
    const entry = origin.entrypoint.join(' ')
    for (const name of ['EDGE_SIGNING_SECRET', 'JWT_SIGNING_KEY', 'DATABASE_URL'])
      expect(entry).toContain(`${name}=`)
  })
})
