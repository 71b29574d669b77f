import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const web = join(root, 'web')

/**
 * Builds the demo page into web/dist, the edge's static assets (wrangler.toml [assets]):
 * the SDK and the page bundled for browsers, plus the HTML and CSS as they are. Synchronous
 * and quick (~50 ms), so config files can call it before anything reads wrangler.toml.
 */
export function buildWeb(outdir = join(web, 'dist')): string {
  mkdirSync(outdir, { recursive: true })
  buildSync({
    entryPoints: [join(web, 'src', 'app.ts')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    logLevel: 'error',
  })
  for (const file of ['index.html', 'style.css']) copyFileSync(join(web, file), join(outdir, file))
  return outdir
}
