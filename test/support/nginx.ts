import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../dev/processes'
import { ensureDebianPackage } from './debian'

/** Debian's nginx (.ci/run installs it). */
export function ensureNginx(): string {
  ensureDebianPackage('nginx', ['/usr/sbin/nginx'])
  return '/usr/sbin/nginx'
}

/**
 * Debian's nginx running deploy/compose/plaza.conf as the Compose tier ships it, with only
 * what differs on this machine rewritten: the three origins' addresses (127.0.0.1 and their
 * ports instead of origin-1..3:8788), the listening port, and (`extra`) test-only directives
 * inside the server block. Its pid, logs and temp files live in a temporary directory.
 */
export async function startNginx(confPath: string, origins: number[], extra = '') {
  const bin = ensureNginx()
  const dir = mkdtempSync(join(tmpdir(), 'plaza-nginx-'))
  const port = await freePort()
  let conf = readFileSync(confPath, 'utf8')
  origins.forEach((originPort, i) => {
    conf = conf.replace(`server origin-${i + 1}:8788`, `server 127.0.0.1:${originPort}`)
  })
  if (/origin-\d:8788/.test(conf)) throw new Error('plaza.conf names more origins than given')
  conf = conf
    .replace(/listen 80;/, `listen 127.0.0.1:${port};`)
    .replace(/access_log \/dev\/stdout plaza_json;/, `access_log ${dir}/access.log plaza_json;`)
    .replace(/(server \{\n)/, `$1${extra}\n`)
  writeFileSync(join(dir, 'plaza.conf'), conf)
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp))
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_processes 1;
events { worker_connections 1024; }
http {
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/plaza.conf;
}
`,
  )
  const child: ChildProcess = spawn(bin, ['-c', join(dir, 'nginx.conf'), '-p', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 10_000
  while (
    !(await fetch(`${url}/health`).then(
      () => true,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, 'error.log'))
        ? readFileSync(join(dir, 'error.log'), 'utf8')
        : ''
      throw new Error(`nginx did not start: ${stderr}${log}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url,
    accessLog: () => readFileSync(join(dir, 'access.log'), 'utf8'),
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGQUIT')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
