import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

export interface ScryptParams {
  cost: number
  blockSize: number
  parallelism: number
}

const keyLength = 32

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      keyLength,
      {
        N: params.cost,
        r: params.blockSize,
        p: params.parallelism,
        maxmem: 256 * params.cost * params.blockSize,
      },
      (err, key) => (err ? reject(err) : resolve(key)),
    )
  })
}

/** `scrypt$N$r$p$salt$hash` (base64): the parameters travel with the hash, so they can be raised later. */
export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(16)
  const hash = await derive(password, salt, params)
  return [
    'scrypt',
    params.cost,
    params.blockSize,
    params.parallelism,
    salt.toString('base64'),
    hash.toString('base64'),
  ].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await derive(password, Buffer.from(salt, 'base64'), {
    cost: Number(n),
    blockSize: Number(r),
    parallelism: Number(p),
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** Spends the same time as a real check, so an unknown email is not told apart by timing. */
export async function burnPasswordCheck(params: ScryptParams): Promise<void> {
  await derive('not-a-password', randomBytes(16), params)
}

/** Whether a stored hash was made with other parameters than today's (rehash it at the next sign-in). */
export function needsRehash(stored: string, params: ScryptParams): boolean {
  const [scheme, n, r, p] = stored.split('$')
  return (
    scheme !== 'scrypt' ||
    Number(n) !== params.cost ||
    Number(r) !== params.blockSize ||
    Number(p) !== params.parallelism
  )
}
