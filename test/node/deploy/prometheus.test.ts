import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// The alert rules, unit-tested by Prometheus's own promtool (Debian's `prometheus` package;
// .ci/run installs it): every alert firing when it should and silent when it should not.
const dir = fileURLToPath(new URL('../../../deploy/prometheus', import.meta.url))
const promtool = (...args: string[]) =>
  execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' })

const hasPromtool = () => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

beforeAll(() => {
  if (hasPromtool()) return
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('installing Debian prometheus for promtool (apt-get install prometheus)…')
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  }
  if (!hasPromtool()) {
    throw new Error('No promtool: install it (sudo apt-get install prometheus)')
  }
}, 300_000)

describe('deploy/prometheus', () => {
  it('has valid rules and a valid scrape config', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 12 rules found/)
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS/)
  })

  it('fires every alert when it should and never when it should not (promtool test rules)', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/)
  })
})
