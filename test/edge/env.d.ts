import type { Env as PlazaEnv } from '../../edge/env'

declare global {
  namespace Cloudflare {
    interface Env extends PlazaEnv {}
  }
}
