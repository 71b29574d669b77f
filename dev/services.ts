import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import { redact } from './database'
import { generateSigningKey } from './jwk'

export const startCommands = {
  mariadb:
    'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql',
  redis:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
}

/** Checks that MariaDB and Redis answer; the error names each one that does not and how to start it. */
export async function checkServices(databaseUrl: string, redisUrl: string): Promise<void> {
  const problems: string[] = []
  try {
    const u = new URL(databaseUrl)
    u.pathname = '/'
    const connection = await mysql.createConnection({ uri: u.toString(), connectTimeout: 3_000 })
    await connection.end()
  } catch (err) {
    problems.push(
      `MariaDB is not answering at ${redact(databaseUrl)} (${(err as { code?: string }).code ?? (err as Error).message}).\n    Start it with: ${startCommands.mariadb}`,
    )
  }
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    problems.push(
      `Redis is not answering at ${redisUrl} (${(err as Error).message}).\n    Start it with: ${startCommands.redis}`,
    )
  } finally {
    redis.disconnect()
  }
  if (problems.length) throw new Error(problems.join('\n'))
}

export interface DevSecrets {
  edgeSigningSecret: string
  upstashToken: string
  edgeDbPassword: string
  /** Private Ed25519 JWK (origin) and the matching public JWKS (edge). */
  jwtSigningKey: string
  jwtJwks: string
}

/** Local secrets, made once per checkout and kept out of git (.dev/ is ignored). */
export async function devSecrets(path: string): Promise<DevSecrets> {
  const existing = (await readFile(path, 'utf8').then(
    JSON.parse,
    () => ({}),
  )) as Partial<DevSecrets>
  if (
    existing.edgeSigningSecret &&
    existing.upstashToken &&
    existing.edgeDbPassword &&
    existing.jwtSigningKey &&
    existing.jwtJwks
  ) {
    return existing as DevSecrets
  }
  const key = await generateSigningKey(`dev-${randomBytes(4).toString('hex')}`)
  const secrets: DevSecrets = {
    edgeSigningSecret: randomBytes(32).toString('hex'),
    upstashToken: randomBytes(24).toString('hex'),
    edgeDbPassword: randomBytes(18).toString('hex'),
    jwtSigningKey: key.privateJwk,
    jwtJwks: key.jwks,
    ...existing,
  }
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  return secrets
}
