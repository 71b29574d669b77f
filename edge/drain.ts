/**
 * Reads and discards up to `maxBytes` of a request body, then cancels the rest: an error
 * answered before the body was read would otherwise leave it on the connection, and
 * closing that can reset the client's answer (or its next request on the same socket).
 */
export async function drain(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<void> {
  const reader = body.getReader()
  let read = 0
  try {
    while (read < maxBytes) {
      const { done, value } = await reader.read()
      if (done) return
      read += value.byteLength
    }
    await reader.cancel()
  } catch {
    // the client went away
  }
}
