import { rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

/**
 * `npm run build`: the origin as plain JavaScript in dist/ — what `npm start` and the image
 * run, with production dependencies only (they stay in node_modules, not bundled):
 * dist/origin.js (the cluster) and dist/migrate.js (migrations from the same install; it
 * reads ./migrations beside dist/). The edge is built by wrangler (`wrangler deploy`).
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const out = join(root, 'dist')
rmSync(out, { recursive: true, force: true })
const entries = { origin: 'origin/main.ts', migrate: 'dev/migrate.ts' }
buildSync({
  entryPoints: Object.fromEntries(
    Object.entries(entries).map(([name, path]) => [name, join(root, path)]),
  ),
  outdir: out,
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'error',
})
for (const name of Object.keys(entries)) {
  const kb = (statSync(join(out, `${name}.js`)).size / 1024).toFixed(1)
  console.log(`dist/${name}.js ${kb} KB`)
}
