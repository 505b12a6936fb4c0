// pino options shared by the server and the CLI: JSON to stdout, secrets redacted.
import type { LoggerOptions } from 'pino'

/** Anything that may carry a credential, wherever it appears in a log line. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.client_secret',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.cookie',
]

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      // Method and path only: the query string is no place for secrets, but do not log it anyway.
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url?.split('?')[0],
        ip: req.ip,
      }),
    },
  }
}
