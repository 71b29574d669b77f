import { createServer } from 'node:http'
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { WebSocketServer } from 'ws'

/**
 * The comparison servers of the fan-out benchmark, one per process:
 *  - `socketio`: Socket.IO 4 with @socket.io/redis-adapter (run two of these), every
 *    connection in one room, each `msg` re-emitted to the room;
 *  - `ws`: a bare `ws` server that sends every message to every socket.
 * Prints {"port"} on stdout once listening.
 */
const mode = process.argv[2]
const http = createServer()

if (mode === 'socketio') {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const pub = new Redis(redisUrl)
  const sub = pub.duplicate()
  const io = new Server(http, {
    transports: ['websocket'],
    adapter: createAdapter(pub, sub, { key: `plaza-bench-${process.env.BENCH_RUN ?? 'x'}` }),
  })
  io.on('connection', (socket) => {
    socket.join('room')
    socket.on('msg', (body: string) => {
      io.to('room').emit('msg', body)
    })
  })
} else if (mode === 'ws') {
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? data : data.toString()
      for (const client of wss.clients) client.send(text)
    })
  })
} else {
  console.error('usage: fanout-server.ts socketio|ws')
  process.exit(2)
}

http.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (http.address() as { port: number }).port }))
})
process.on('SIGTERM', () => process.exit(0))
