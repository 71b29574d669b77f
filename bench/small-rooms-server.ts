import { createServer } from 'node:http'
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import { Server } from 'socket.io'

/**
 * The comparison servers of the many-small-rooms benchmark (run two, as a Redis adapter
 * deployment would): Socket.IO 4 with @socket.io/redis-adapter; each connection joins
 * the room named in its handshake query, each `msg` is emitted to that room.
 *  - `ephemeral`: emitted at once, kept nowhere;
 *  - `persisted`: written to MariaDB first (one INSERT per message, as the seeds' chat
 *    design does), emitted once the write returns.
 * Prints {"port"} on stdout once listening.
 */
const mode = process.argv[2]
if (mode !== 'ephemeral' && mode !== 'persisted') {
  console.error('usage: small-rooms-server.ts ephemeral|persisted')
  process.exit(2)
}
const http = createServer()
const pub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const sub = pub.duplicate()
const io = new Server(http, {
  transports: ['websocket'],
  adapter: createAdapter(pub, sub, { key: `plaza-small-${process.env.BENCH_RUN ?? 'x'}` }),
})
const pool =
  mode === 'persisted'
    ? mysql.createPool({ uri: process.env.BENCH_DATABASE_URL, connectionLimit: 10 })
    : undefined

io.on('connection', (socket) => {
  const room = String(socket.handshake.query.room ?? '')
  socket.join(room)
  socket.on('msg', async (body: string) => {
    if (pool) {
      try {
        await pool.execute(
          'INSERT INTO socketio_messages (room, author, body, created_at) VALUES (?, ?, ?, NOW(3))',
          [room, socket.id, body],
        )
      } catch (err) {
        console.error(`insert failed: ${(err as Error).message}`)
        return
      }
    }
    io.to(room).emit('msg', body)
  })
})

http.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (http.address() as { port: number }).port }))
})
process.on('SIGTERM', () => {
  void pool?.end()
  process.exit(0)
})
