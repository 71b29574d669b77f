import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { freePort } from './origin'

const run = promisify(execFile)

/**
 * A private MariaDB server with its own data directory, for tests that stop the database
 * (the machine's shared MariaDB, and every suite using it, is never disturbed). Data
 * survives stop/start, as it would on a real server.
 */
export async function privateMariaDb() {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'plaza-mariadb-'))
  const dataDir = join(dir, 'data')
  // mariadbd refuses to run as root; the data directory belongs to the mysql user.
  const asRoot = process.getuid?.() === 0
  if (asRoot) await chown(dir, ...(await idsOf('mysql')))
  await run('mariadb-install-db', [
    `--datadir=${dataDir}`,
    ...(asRoot ? ['--user=mysql'] : []),
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ])
  let child: ChildProcess | null = null
  const serverUrl = `mysql://root@127.0.0.1:${port}`

  const start = async () => {
    child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, 'sock')}`,
        `--pid-file=${join(dir, 'pid')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        ...(asRoot ? ['--user=mysql'] : []),
      ],
      { stdio: 'ignore' },
    )
    for (let i = 0; i < 200; i++) {
      const ok = await mysql
        .createConnection({ uri: serverUrl, connectTimeout: 500 })
        .then(async (c) => {
          await c.end()
          return true
        })
        .catch(() => false)
      if (ok) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`private MariaDB on ${port} did not come up`)
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child as ChildProcess | null
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill(signal)
    await exited
  }

  await start()
  return {
    url: (database: string) => `${serverUrl}/${database}`,
    start,
    stop,
    async destroy() {
      await stop('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function idsOf(user: string): Promise<[number, number]> {
  const { stdout: uid } = await run('id', ['-u', user])
  const { stdout: gid } = await run('id', ['-g', user])
  return [Number(uid.trim()), Number(gid.trim())]
}
