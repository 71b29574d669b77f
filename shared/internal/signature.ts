import { toHex } from '../hex'

/**
 * The edge → origin request signature (DESIGN §2.7): HMAC-SHA256 over method, path with
 * query, timestamp, user id, the body's SHA-256 and, where sent, a nonce. The origin
 * trusts a user id only when this verifies inside a short clock window. WebCrypto only,
 * so both runtimes share it.
 */
export const signatureHeaders = {
  signature: 'x-plaza-signature',
  timestamp: 'x-plaza-timestamp',
  user: 'x-plaza-user',
  /**
   * 128 random bits, lowercase hex: two requests alike in everything else, signed in the
   * same millisecond, get different MACs, so the origin's replay guard refuses only a true
   * replay. Optional for verification: backends that publish sign the form without it.
   */
  nonce: 'x-plaza-nonce',
} as const

const encoder = new TextEncoder()
const keyCache = new Map<string, Promise<CryptoKey>>()

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret)
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    )
    keyCache.set(secret, key)
  }
  return key
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return null
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export interface SignedParts {
  method: string
  /** Path plus query string, exactly as the origin will see it. */
  pathWithQuery: string
  timestamp: number
  userId: string
  body: BufferSource
  /** `signatureHeaders.nonce`'s value; none: the five-line form. */
  nonce?: string
}

/**
 * The signed text: method, path with query, timestamp, user id, the body's SHA-256 and the
 * nonce if there is one, one per line. No part can hold a newline (a URL, header values,
 * hex), so the forms with and without a nonce never read alike.
 */
export function canonicalText(parts: Omit<SignedParts, 'body'> & { bodyHash: string }): string {
  const lines = [
    parts.method.toUpperCase(),
    parts.pathWithQuery,
    String(parts.timestamp),
    parts.userId,
    parts.bodyHash,
  ]
  if (parts.nonce !== undefined) lines.push(parts.nonce)
  return lines.join('\n')
}

async function canonical(parts: SignedParts): Promise<Uint8Array<ArrayBuffer>> {
  const bodyHash = toHex(await crypto.subtle.digest('SHA-256', parts.body))
  return encoder.encode(canonicalText({ ...parts, bodyHash })) as Uint8Array<ArrayBuffer>
}

export type SignatureHeaders =
  | {
      ok: true
      timestamp: number
      userId: string
      mac: Uint8Array<ArrayBuffer>
      nonce: string | undefined
    }
  | { ok: false; reason: string }

/**
 * The signature headers of a request, checked for form and freshness before any MAC is
 * computed. The timestamp has one textual form (decimal milliseconds, no sign, no
 * leading zero), so one signed request cannot be presented in several spellings.
 */
export function readSignatureHeaders(
  headers: Headers,
  options: { windowMs: number; now?: number },
): SignatureHeaders {
  const header = headers.get(signatureHeaders.signature)
  const timestampHeader = headers.get(signatureHeaders.timestamp)
  if (!header || !timestampHeader) return { ok: false, reason: 'missing signature' }
  if (!/^[1-9][0-9]{0,15}$/.test(timestampHeader))
    return { ok: false, reason: 'malformed timestamp' }
  const timestamp = Number(timestampHeader)
  const now = options.now ?? Date.now()
  if (Math.abs(now - timestamp) > options.windowMs) return { ok: false, reason: 'stale signature' }
  const mac = header.startsWith('v1=') ? fromHex(header.slice(3)) : null
  if (mac?.length !== 32) return { ok: false, reason: 'malformed signature' }
  const nonce = headers.get(signatureHeaders.nonce) ?? undefined
  if (nonce !== undefined && !/^[0-9a-f]{32}$/.test(nonce))
    return { ok: false, reason: 'malformed nonce' }
  return { ok: true, timestamp, userId: headers.get(signatureHeaders.user) ?? '', mac, nonce }
}

/** A fresh nonce: 16 random bytes, lowercase hex. */
function newNonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)))
}

/**
 * Headers the edge adds to a request it forwards, a fresh nonce among them (`nonce: null`
 * signs the form without one, as a publishing backend may).
 */
export async function signRequest(
  secret: string,
  parts: Omit<SignedParts, 'timestamp' | 'nonce'> & { timestamp?: number; nonce?: null },
): Promise<Record<string, string>> {
  const timestamp = parts.timestamp ?? Date.now()
  const nonce = parts.nonce === null ? undefined : newNonce()
  const mac = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    await canonical({ ...parts, timestamp, nonce }),
  )
  return {
    [signatureHeaders.signature]: `v1=${toHex(mac)}`,
    [signatureHeaders.timestamp]: String(timestamp),
    [signatureHeaders.user]: parts.userId,
    ...(nonce === undefined ? {} : { [signatureHeaders.nonce]: nonce }),
  }
}

export type VerifyResult = { ok: true; userId: string } | { ok: false; reason: string }

/**
 * Checks a request's signature against any of `secrets` (the current one and, while
 * rotating, the previous). HMAC verify compares in constant time.
 */
export async function verifyRequest(
  secrets: readonly string[],
  request: { method: string; pathWithQuery: string; headers: Headers; body: BufferSource },
  options: { windowMs: number; now?: number },
): Promise<VerifyResult> {
  const read = readSignatureHeaders(request.headers, options)
  if (!read.ok) return read
  const { timestamp, userId, mac, nonce } = read
  const data = await canonical({ ...request, timestamp, userId, nonce })
  for (const secret of secrets) {
    if (await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, data))
      return { ok: true, userId }
  }
  return { ok: false, reason: 'bad signature' }
}
