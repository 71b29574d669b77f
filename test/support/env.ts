/** Where tests find the real services; each suite family gets its own database. */
export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const mysqlServer = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'
export const databaseUrl = (name: string) => `${mysqlServer}/${name}`
export const readOnlyUser = { user: 'plaza_edge_test', password: 'read-only-test-password' }
/** A unique prefix so parallel test files never share Redis keys or rows. */
export const uniq = (label: string) =>
  `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
