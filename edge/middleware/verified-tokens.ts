/** What a verified access token says. */
export interface AccessClaims {
  sub: string
  exp: number
  name: string
  /** `user` or `admin`, as of the token's issue. */
  role: string
}

/**
 * Access tokens this isolate has verified, kept until they expire: a client sends the same
 * token with every request for its whole lifetime, and an EdDSA verification per request
 * was a seventh of the edge's CPU on the HTTP send path. The key is the whole token, so a
 * hit is the very string that verified; the expiry check (with the verifier's 5 s clock
 * tolerance) is repeated on every hit, so a cached token dies exactly when it would have.
 * Bounded: the oldest entry goes first.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, AccessClaims>()

  constructor(
    private readonly max = 10_000,
    private readonly toleranceSeconds = 5,
  ) {}

  get(token: string, nowMs = Date.now()): AccessClaims | undefined {
    const claims = this.entries.get(token)
    if (!claims) return undefined
    if (claims.exp + this.toleranceSeconds < nowMs / 1000) {
      this.entries.delete(token)
      return undefined
    }
    return claims
  }

  set(token: string, claims: AccessClaims): void {
    this.entries.set(token, claims)
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
  }

  get size(): number {
    return this.entries.size
  }
}
