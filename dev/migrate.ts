import { originConfigSchema } from '../shared/config'
import { applyMigrations, redact } from './database'

// `npm run db:migrate`: applies migrations/ to DATABASE_URL (default: local MariaDB, database plaza).
const url = originConfigSchema.shape.DATABASE_URL.parse(process.env.DATABASE_URL || undefined)
try {
  await applyMigrations(url)
  console.log(`migrations applied to ${redact(url)}`)
} catch (err) {
  console.error(`migration failed on ${redact(url)}: ${(err as Error).message}`)
  console.error(
    'Is MariaDB running? Start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql',
  )
  process.exit(1)
}
