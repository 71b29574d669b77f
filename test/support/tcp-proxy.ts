import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy in front of the edge that a test can cut: `cut()` drops every open
 * connection and refuses new ones until `restore()`, as a flaky mobile network would.
 */
export async function tcpProxy(target: string) {
  const { hostname, port } = new URL(target)
  const open = new Set<Socket>()
  let blocked = false
  const server = createServer((client) => {
    if (blocked) {
      client.destroy()
      return
    }
    const upstream = connect(Number(port), hostname)
    open.add(client)
    open.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      blocked = true
      for (const s of open) s.destroy()
      open.clear()
    },
    restore() {
      blocked = false
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  }
}
