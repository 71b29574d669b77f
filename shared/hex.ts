/** Lower-case hex of bytes: digests, signatures and ETags all spell bytes this one way. */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let out = ''
  for (const b of view) out += b.toString(16).padStart(2, '0')
  return out
}

/** SHA-1 of a UTF-8 string, as hex (WebCrypto: the same in workerd and Node). */
export async function sha1Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text)))
}
