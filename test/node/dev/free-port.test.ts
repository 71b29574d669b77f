import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../../dev/processes'

/** The kernel's range for the source ports of outgoing connections. */
const [ephemeralLow, ephemeralHigh] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
  .trim()
  .split(/\s+/)
  .map(Number) as [number, number]

describe('freePort', () => {
  it('picks ports outside the range outgoing connections take theirs from, and free ones', async () => {
    // A port from the ephemeral range can become some connection's source port between the
    // pick and the bind (a parallel test's connect): the bind then fails, EADDRINUSE.
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()))
    for (const port of ports) {
      expect(port < ephemeralLow || port > ephemeralHigh, `${port}`).toBe(true)
    }
    const server = createServer()
    server.listen(ports[0], '127.0.0.1')
    await new Promise((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    server.close()
  })

  it('never hands out a port something listens on', async () => {
    const taken = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const server = createServer()
        server.listen(await freePort(), '127.0.0.1')
        await new Promise((r) => server.once('listening', r))
        return server
      }),
    )
    const busy = new Set(taken.map((s) => (s.address() as { port: number }).port))
    for (let i = 0; i < 50; i++) expect(busy.has(await freePort())).toBe(false)
    for (const s of taken) s.close()
  })
})
