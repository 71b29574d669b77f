import type { EdgeConfig } from '../shared/config'

/**
 * Something the edge keeps per isolate, built once per validated config (a Worker's env
 * is parsed once per isolate, so the config object is the isolate's identity).
 */
export function perIsolate<T>(build: (config: EdgeConfig) => T): (config: EdgeConfig) => T {
  const built = new WeakMap<EdgeConfig, T>()
  return (config) => {
    let value = built.get(config)
    if (!value) {
      value = build(config)
      built.set(config, value)
    }
    return value
  }
}
