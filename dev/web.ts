import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const web = join(root, 'web')

/**
 * Builds the demo page into web/dist, the edge's static assets (wrangler.toml [assets]):
 * the SDK and the page bundled for browsers, the HTML, CSS and favicon as they are, and
 * swagger-ui-dist's two files for /docs. Synchronous
 * and quick (~50 ms), so config files can call it before anything reads wrangler.toml.
 */
export function buildWeb(outdir = join(web, 'dist')): string {
  mkdirSync(outdir, { recursive: true })
  buildSync({
    // The chat page and the dashboard (uPlot bundled in, its CSS beside as dashboard.css).
    entryPoints: [join(web, 'src', 'app.ts'), join(web, 'src', 'dashboard.ts')],
    outdir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    logLevel: 'error',
  })
  for (const file of ['index.html', 'dashboard.html', 'style.css', 'favicon.ico']) {
    copyFileSync(join(web, file), join(outdir, file))
  }
  // The API docs' UI from its npm package, served by the edge: /docs works offline.
  const swagger = join(outdir, 'swagger-ui-dist')
  mkdirSync(swagger, { recursive: true })
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    copyFileSync(join(root, 'node_modules', 'swagger-ui-dist', file), join(swagger, file))
  }
  return outdir
}

// `npm run build:web`: the page alone, before `wrangler deploy` uploads web/dist.
if (process.argv[1]?.endsWith('web.ts')) console.log(`built ${buildWeb()}`)
