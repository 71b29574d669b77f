import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

/** Small helpers shared by the two stand-ins, which use bare node:http to stay off the hot path. */
export function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

export interface RunningStandIn {
  url: string
  port: number
  /** HTTP requests served so far: how tests count round trips. */
  readonly requests: number
  close(): Promise<void>
}

/**
 * Serves `handle` on host:port (0 = any free port). A handler that throws answers 500 with
 * `internalError(err)`; `close` stops the server, drops its connections, then runs `release`.
 */
export async function serve(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: {
    host?: string
    port?: number
    internalError: (err: unknown) => unknown
    release: () => Promise<void>
  },
): Promise<RunningStandIn> {
  let requests = 0
  const server = createServer((req, res) => {
    requests += 1
    handle(req, res).catch((err: unknown) => sendJson(res, 500, options.internalError(err)))
  })
  server.keepAliveTimeout = 30_000
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0)
  return {
    url: `http://${host}:${port}`,
    port,
    get requests() {
      return requests
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await options.release()
    },
  }
}
