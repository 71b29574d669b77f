import mysql from 'mysql2/promise'
import { privateMariaDb } from './mariadb-server'

/**
 * The integration suites' MariaDB: a private server with its general log on (as a table),
 * so the shard-key test, which runs last, can read every statement the suites sent —
 * the origin's, the PlanetScale stand-in's (the edge's reads) and the tests' own. The
 * machine's shared MariaDB stays untouched; TEST_MYSQL_URL points every suite here.
 */
export default async function setup() {
  const mdb = await privateMariaDb()
  const root = await mysql.createConnection({ uri: mdb.url('mysql') })
  await root.query("SET GLOBAL log_output = 'TABLE'")
  await root.query('SET GLOBAL general_log = 1')
  await root.end()
  process.env.TEST_MYSQL_URL = mdb.url('').replace(/\/$/, '')
  return async () => {
    await mdb.destroy()
  }
}
