import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'mysql',
  schema: './shared/schema.ts',
  out: './migrations',
})
