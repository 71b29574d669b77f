import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// The house rules of STYLE.md, measured: no file over ~300 lines and no function over ~50
// (its own lines: nested functions count for themselves) in the code that ships, unless
// docs/ARCHITECTURE.md names it under "Long on purpose" with its reason.
const root = fileURLToPath(new URL('../..', import.meta.url))
const shipped = ['edge', 'origin', 'shared', 'client/src']
const MAX_FILE_LINES = 300
const MAX_FUNCTION_LINES = 50

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

function nameOf(node: ts.Node, file: ts.SourceFile): string {
  const named = node as { name?: ts.Node }
  if (named.name) return named.name.getText(file)
  const parent = node.parent
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))
    return parent.name.getText(file)
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  return `<function at line ${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}>`
}

const lines = (node: ts.Node, file: ts.SourceFile) =>
  file.getLineAndCharacterOfPosition(node.getEnd()).line -
  file.getLineAndCharacterOfPosition(node.getStart(file)).line +
  1

/** Each function's own length: its lines less those of the functions nested in it. */
function functionLengths(path: string): Array<{ name: string; lines: number }> {
  const file = ts.createSourceFile(
    path,
    readFileSync(join(root, path), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  )
  const out: Array<{ name: string; lines: number }> = []
  const nestedLines = (node: ts.Node): number => {
    let sum = 0
    node.forEachChild(function visit(child) {
      if (ts.isFunctionLike(child)) sum += lines(child, file)
      else child.forEachChild(visit)
    })
    return sum
  }
  file.forEachChild(function visit(node) {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
      out.push({ name: nameOf(node, file), lines: lines(node, file) - nestedLines(node) })
    }
    node.forEachChild(visit)
  })
  return out
}

function longOnPurpose(): Set<string> {
  const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8')
  const section = doc.split(/^### Long on purpose$/m)[1]?.split(/^#/m)[0] ?? ''
  return new Set([...section.matchAll(/`([^`]+\.ts:[^`]+)`/g)].map((m) => m[1]!))
}

describe('the house', () => {
  const files = shipped.flatMap(sourceFiles)
  const allowed = longOnPurpose()

  it('has no file over ~300 lines in the code that ships', () => {
    const long = files
      .map((f) => ({
        file: relative(root, join(root, f)),
        lines: readFileSync(join(root, f), 'utf8').split('\n').length,
      }))
      .filter((f) => f.lines > MAX_FILE_LINES && !allowed.has(`${f.file}:*`))
    expect(long).toEqual([])
  })

  it('has no function over ~50 lines without a reason in docs/ARCHITECTURE.md', () => {
    const long = files.flatMap((f) =>
      functionLengths(f)
        .filter((fn) => fn.lines > MAX_FUNCTION_LINES && !allowed.has(`${f}:${fn.name}`))
        .map((fn) => `${f}:${fn.name} (${fn.lines} lines)`),
    )
    expect(long).toEqual([])
  })
})
