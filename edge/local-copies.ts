import type { EdgeConfig } from '../shared/config'
import { perIsolate } from './per-isolate'

/** A cached body as the read path serves it. */
export interface Copy {
  etag: string
  text: string
}

interface Held extends Copy {
  /** When a HIT or MISS last showed this body current (its generation matched). */
  confirmedAt: number
  /** What it counts against `maxBytes`. */
  size: number
}

/**
 * The isolate's own copies of recently served cache entries, for when Redis cannot be
 * reached (DESIGN §2.6: "served stale where the edge still holds a copy"): hot reads then
 * answer STALE from memory instead of all falling on the database. Bounded by bytes
 * (least recently confirmed first out) and by age: a copy is served only within
 * `CACHE_LOCAL_STALE_SECONDS` of the last time it was confirmed current, which bounds how
 * old an answer can be (writes are refused while Redis is down, so nothing newer can
 * have been written since the outage began; ARCHITECTURE says what this trades).
 */
export class LocalCopies {
  private readonly held = new Map<string, Held>()
  private bytes = 0

  constructor(
    private readonly maxBytes: number,
    private readonly maxAgeMs: number,
  ) {}

  /** `copy` was just shown current under `key`. */
  confirm(key: string, copy: Copy, now = Date.now()): void {
    const size = key.length + copy.text.length + copy.etag.length
    if (size > this.maxBytes / 8) return // one entry never crowds out the rest
    this.drop(key)
    this.held.set(key, { etag: copy.etag, text: copy.text, confirmedAt: now, size })
    this.bytes += size
    for (const [oldest] of this.held) {
      if (this.bytes <= this.maxBytes) break
      this.drop(oldest)
    }
  }

  /** The copy under `key`, if one was confirmed recently enough to serve. */
  recent(key: string, now = Date.now()): Copy | null {
    const held = this.held.get(key)
    if (!held) return null
    if (now - held.confirmedAt > this.maxAgeMs) {
      this.drop(key)
      return null
    }
    return held
  }

  private drop(key: string): void {
    const held = this.held.get(key)
    if (!held) return
    this.bytes -= held.size
    this.held.delete(key)
  }
}

export const localCopies = perIsolate(
  (config: EdgeConfig) =>
    new LocalCopies(config.CACHE_LOCAL_MAX_BYTES, config.CACHE_LOCAL_STALE_SECONDS * 1000),
)
