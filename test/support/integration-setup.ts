import mysql from 'mysql2/promise'
import type { TestProject } from 'vitest/node'
import { privateMariaDb } from './mariadb-server'

/**
 * The integration suites' MariaDB: a private server with its general log on (as a table),
 * so the shard-key test, which runs last, can read every statement the suites sent —
 * the origin's, the PlanetScale stand-in's (the edge's reads) and the tests' own. Provided
 * to this project only (test/support/env.ts): the other projects, running meanwhile, keep
 * the machine's MariaDB, which stays untouched.
 */
export default async function setup(project: TestProject) {
  const mdb = await privateMariaDb()
  const root = await mysql.createConnection({ uri: mdb.url('mysql') })
  await root.query("SET GLOBAL log_output = 'TABLE'")
  await root.query('SET GLOBAL general_log = 1')
  await root.end()
  project.provide('integrationMysqlServer', mdb.url('').replace(/\/$/, ''))
  return async () => {
    await mdb.destroy()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    integrationMysqlServer?: string
  }
}
