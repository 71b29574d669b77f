import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensurePrometheus } from '../../support/prometheus'

// The alert rules, unit-tested by Prometheus's own promtool (Debian's `prometheus` package;
// .ci/run installs it): every alert firing when it should and silent when it should not.
const dir = fileURLToPath(new URL('../../../deploy/prometheus', import.meta.url))
const promtool = (...args: string[]) =>
  execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' })

beforeAll(() => ensurePrometheus(), 300_000)

describe('deploy/prometheus', () => {
  it('has valid rules and a valid scrape config for each tier (laptop, Compose, Kubernetes)', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 12 rules found/)
    for (const tier of ['prometheus.yml', 'prometheus.compose.yml', 'prometheus.kubernetes.yml'])
      expect(promtool('check', 'config', tier)).toMatch(/is valid prometheus config file/)
  })

  it('fires every alert when it should and never when it should not (promtool test rules)', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/)
  })
})
