import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

/**
 * `npm run build:client`: the SDK as a publishable package in client/dist — one ESM file
 * (partysocket stays a dependency) and its type declarations, the shared protocol types
 * included — so apps install it without our TypeScript sources.
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const out = join(root, 'client', 'dist')
rmSync(out, { recursive: true, force: true })
buildSync({
  entryPoints: [join(root, 'client', 'src', 'index.ts')],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['partysocket', 'partysocket/*'],
  sourcemap: true,
  logLevel: 'error',
})
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(root, 'client', 'tsconfig.build.json'),
  ],
  {
    stdio: 'inherit',
  },
)
writeFileSync(join(out, 'index.d.ts'), "export * from './types/client/src/index'\n")
console.log(`client/dist: index.js, index.d.ts (+ types/)`)
