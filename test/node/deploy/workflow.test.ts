import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { repoRoot } from '../../support/origin'

// The CI/CD workflow a user can adopt (.github/workflows/deploy.yml): valid YAML, its jobs
// in the deploy order (test → image → migrate → origin → edge), every npm script it runs
// exists, every action pinned to a version, every file it applies or builds from exists.
// biome-ignore lint/suspicious/noExplicitAny: the workflow, as YAML.
const workflow: any = parse(readFileSync(join(repoRoot, '.github/workflows/deploy.yml'), 'utf8'))
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
const steps = Object.values(workflow.jobs).flatMap(
  (job) => (job as { steps: Array<Record<string, string>> }).steps,
)
const commands = steps.map((s) => s.run ?? '').join('\n')

describe('the deploy workflow', () => {
  it('runs its jobs in the deploy order', () => {
    const needs = (job: string) => workflow.jobs[job].needs
    expect([needs('image'), needs('migrate'), needs('origin'), needs('edge')]).toEqual([
      'test',
      'image',
      'migrate',
      'origin',
    ])
    expect(workflow.jobs.test.steps.at(-1).run).toContain('.ci/run')
  })

  it('runs only npm scripts that exist, pinned actions, and files that exist', () => {
    const scripts = [...commands.matchAll(/npm run (\S+)/g)].map((m) => m[1]!)
    expect(scripts.length).toBeGreaterThan(0)
    for (const script of scripts) expect(pkg.scripts, script).toHaveProperty(script)
    for (const bin of [...commands.matchAll(/npx (\S+)/g)].map((m) => m[1]!)) {
      expect({ ...pkg.dependencies, ...pkg.devDependencies }, bin).toHaveProperty(bin)
    }
    for (const step of steps.filter((s) => s.uses))
      expect(step.uses).toMatch(/@v\d+$|@[0-9a-f]{40}$/)
    const files = [
      ...commands.matchAll(/-f (deploy\/\S+)/g),
      ...commands.matchAll(/\b(deploy\/kubernetes\/\S+\.yaml)/g),
    ]
    expect(files.length).toBeGreaterThan(5)
    for (const [, file] of files) expect(() => readFileSync(join(repoRoot, file!))).not.toThrow()
    const image = workflow.jobs.image.steps.find((s: { uses?: string }) =>
      s.uses?.startsWith('docker/build-push'),
    )
    expect(() => readFileSync(join(repoRoot, image.with.file))).not.toThrow()
    expect(commands).toContain('wrangler deploy --env')
    expect(commands).toContain('node dist/migrate.js')
  })
})
