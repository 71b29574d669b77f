import { inject } from 'vitest'

/**
 * Where tests find the real services; each suite family gets its own database. The
 * integration project's MariaDB is its own (integration-setup.ts provides it); the other
 * projects use the machine's.
 */
export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const mysqlServer = provided() ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'

/** The integration project's server, inside its test workers (global setups have no context). */
function provided(): string | undefined {
  try {
    return inject('integrationMysqlServer')
  } catch {
    return undefined
  }
}
export const databaseUrl = (name: string) => `${mysqlServer}/${name}`
export const readOnlyUser = { user: 'plaza_edge_test', password: 'read-only-test-password' }
/** A unique prefix so parallel test files never share Redis keys or rows. */
export const uniq = (label: string) =>
  `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
