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

/** scrypt's work for a run: its memory and time both grow with N·r·p. */
const workOf = (p: ScryptParams) => p.cost * p.blockSize * p.parallelism

function paramsOf(stored: string): ScryptParams | null {
  const [scheme, n, r, p] = stored.split('$')
  const params = { cost: Number(n), blockSize: Number(r), parallelism: Number(p) }
  return scheme === 'scrypt' && Number.isFinite(workOf(params)) ? params : null
}

/**
 * The extra scrypt runs that bring a check against `stored` up to the work of one at
 * today's `params` (powers of two of N at today's block size, largest first): a wrong
 * password for an account hashed before a cost raise then takes as long as an unknown
 * email. A hash stronger than today's needs none (it is slower, and rehashed at sign-in).
 */
export function topUpFor(stored: string, params: ScryptParams): ScryptParams[] {
  let missing = workOf(params) - workOf(paramsOf(stored) ?? { ...params, cost: 0 })
  const runs: ScryptParams[] = []
  for (let cost = params.cost; cost >= 2; cost /= 2) {
    const run = { cost, blockSize: params.blockSize, parallelism: 1 }
    while (missing >= workOf(run)) {
      runs.push(run)
      missing -= workOf(run)
    }
  }
  return runs
}

/**
 * A sign-in's password check: true only for the right password. A wrong one and an
 * unknown account (`stored` undefined) cost the same scrypt work, today's, whatever the
 * cost the account's hash was made with: timing tells neither whether the email exists
 * nor how old its hash is.
 */
export async function checkSignIn(
  password: string,
  stored: string | undefined,
  params: ScryptParams,
): Promise<boolean> {
  if (stored === undefined) {
    await burnPasswordCheck(params)
    return false
  }
  if (await verifyPassword(password, stored)) return true
  for (const run of topUpFor(stored, params)) await burnPasswordCheck(run)
  return false
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
