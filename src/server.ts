// The only entry point that listens: config, logger, the app, and a graceful close.
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import type { App } from './app.js'
import { type Config, loadConfig } from './config/index.js'
import { OperatorError } from './lib/errors.js'
import { loggerOptions } from './lib/logger.js'

async function main() {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof OperatorError) fail(err.message)
    throw err
  }
  const logger = pino(loggerOptions(config.logLevel))
  let app: App
  try {
    // Loaded only now: a bad setting is reported without loading the whole app.
    const { buildApp } = await import('./app.js')
    app = await buildApp({ config, logger })
  } catch (err) {
    // An unreachable database, a wrong key-encryption key, a failed migration: one clear line.
    fail((err as Error).message)
  }
  closeWithGrace({ delay: config.shutdownTimeout * 1000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'closing after an error')
    else logger.info({ signal }, 'draining in-flight requests, then closing')
    await app.close()
  })
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.close().catch(() => {})
    fail(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`)
  }
  logger.info({ issuer: config.issuer, database: app.db.kind, active_kid: app.keys.signer.kid }, 'tessera ready')
}

function fail(message: string): never {
  process.stderr.write(`tessera: ${message}\n`)
  process.exit(1)
}

await main()
