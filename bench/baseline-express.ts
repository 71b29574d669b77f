import express from 'express'
import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'

/**
 * The scaling guides' own design, as a baseline: Express + ioredis cache-aside + mysql2,
 * one Node process. GET /v1/profiles/:id → Redis GET; on a miss, MySQL, then SET EX 300.
 */
const port = Number(process.env.PORT ?? 0)
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const pool = mysql.createPool({ uri: process.env.DATABASE_URL, connectionLimit: 16, timezone: 'Z' })
const app = express()

app.get('/v1/profiles/:id', async (req, res) => {
  const key = `baseline:profile:${req.params.id}`
  const cached = await redis.get(key)
  if (cached) {
    res.set('x-cache', 'HIT').type('application/json').send(cached)
    return
  }
  const [rows] = (await pool.query('SELECT * FROM profiles WHERE user_id = ? LIMIT 1', [
    req.params.id,
  ])) as unknown as [Array<Record<string, unknown>>]
  const row = rows[0]
  if (!row) {
    res.status(404).json({ error: { code: 'not_found', message: 'Profile not found' } })
    return
  }
  const body = JSON.stringify({
    id: row.user_id,
    displayName: row.display_name,
    bio: row.bio,
    avatarUrl: row.avatar_url,
    location: row.location,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  })
  await redis.set(key, body, 'EX', 300)
  res.set('x-cache', 'MISS').type('application/json').send(body)
})

const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address()
  console.log(
    JSON.stringify({
      url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`,
    }),
  )
})
process.on('SIGTERM', () => {
  server.close()
  redis.disconnect()
  void pool.end().then(() => process.exit(0))
})
