import mysql from 'mysql2/promise'
import { originConfigSchema } from '../shared/config'
import { redact } from './database'

/**
 * `npm run admin:grant -- EMAIL` / `npm run admin:revoke -- EMAIL`: the only way a user
 * becomes (or stops being) an admin — an operator with the database's credentials, never
 * the API. Takes effect at the user's next sign-in or token refresh.
 */
export async function setRole(
  url: string,
  email: string,
  role: 'admin' | 'user',
): Promise<boolean> {
  const db = await mysql.createConnection({ uri: url, connectTimeout: 5000 })
  try {
    const [result] = await db.query('UPDATE users SET role = ? WHERE email = ?', [
      role,
      email.trim().toLowerCase(),
    ])
    return (result as { affectedRows: number }).affectedRows === 1
  } finally {
    await db.end()
  }
}

if (process.argv[1]?.endsWith('admin.ts')) {
  const [command, email] = process.argv.slice(2)
  const url = originConfigSchema.shape.DATABASE_URL.parse(process.env.DATABASE_URL || undefined)
  if (!email || !['grant', 'revoke'].includes(command ?? '')) {
    console.error('usage: npm run admin:grant -- EMAIL | npm run admin:revoke -- EMAIL')
    process.exit(2)
  }
  const role = command === 'grant' ? 'admin' : 'user'
  try {
    if (!(await setRole(url, email, role))) {
      console.error(`no account with the email ${email} in ${redact(url)}`)
      process.exit(1)
    }
    console.log(
      `${email} is now ${role === 'admin' ? 'an admin' : 'a user'} (from the next sign-in or refresh)`,
    )
  } catch (err) {
    console.error(`admin:${command} failed on ${redact(url)}: ${(err as Error).message}`)
    process.exit(1)
  }
}
