import { ensureReadOnlyUser, resetDatabase } from '../../dev/database'
import { databaseUrl, readOnlyUser } from './env'

// Global setup of the Node suites: a fresh, migrated database of their own.
export default async function setup(): Promise<void> {
  const url = databaseUrl('plaza_test')
  await resetDatabase(url)
  await ensureReadOnlyUser(url, readOnlyUser.user, readOnlyUser.password)
}
