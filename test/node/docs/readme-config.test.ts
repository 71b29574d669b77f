import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { edgeConfigSchema, originConfigSchema, standInConfigSchema } from '../../../shared/config'

// README's configuration tables are what operators read: every variable a config schema
// accepts is in them, and every variable in them exists (a schema's, or one the launcher,
// tests or benchmarks read from the environment).
const root = fileURLToPath(new URL('../../..', import.meta.url))

function configTables(): Set<string> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? ''
  const names = new Set<string>()
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const firstCell = row.split('|')[1] ?? ''
    for (const m of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!)
  }
  return names
}

function readFromEnvironment(): Set<string> {
  const names = new Set<string>()
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir))) {
      const path = join(dir, name)
      if (statSync(join(root, path)).isDirectory()) walk(path)
      else if (name.endsWith('.ts')) {
        const text = readFileSync(join(root, path), 'utf8')
        for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!)
      }
    }
  }
  for (const dir of ['dev', 'test', 'bench']) walk(dir)
  return names
}

describe('README configuration tables', () => {
  const documented = configTables()
  const schemas = [originConfigSchema, edgeConfigSchema, standInConfigSchema]
  const schemaVariables = new Set(schemas.flatMap((s) => Object.keys(s.shape)))

  it('list every variable the config schemas accept', () => {
    const missing = [...schemaVariables].filter((v) => !documented.has(v))
    expect(missing).toEqual([])
  })

  it('list no variable that nothing reads', () => {
    const read = readFromEnvironment()
    const unknown = [...documented].filter((v) => !schemaVariables.has(v) && !read.has(v))
    expect(unknown).toEqual([])
  })

  it('are found at all (the test reads the right section)', () => {
    expect(documented.size).toBeGreaterThan(60)
  })
})
