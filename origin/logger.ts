import { pino } from 'pino'
import type { OriginConfig } from '../shared/config'

/** The origin's one logger: JSON lines, secrets redacted wherever they might appear. */
export function createLogger(config: Pick<OriginConfig, 'LOG_LEVEL'>) {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'origin', pid: process.pid },
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'refreshToken',
        '*.refreshToken',
        'accessToken',
        '*.accessToken',
        'headers.authorization',
        '*.headers.authorization',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  })
}
export type Logger = ReturnType<typeof createLogger>
