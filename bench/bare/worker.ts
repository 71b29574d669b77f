import { Hono } from 'hono'

// The floor: a Hono Worker that answers a constant of a profile's size, no middleware.
const body = JSON.stringify({
  id: '01JD3Q6Z8Y0000000000000000',
  displayName: 'Ada Lovelace',
  bio: 'x'.repeat(200),
  avatarUrl: null,
  location: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
})
const app = new Hono()
app.get('*', (c) => c.body(body, 200, { 'content-type': 'application/json' }))
export default app
