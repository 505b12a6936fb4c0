// The only entry point that listens: config, logger, the app, and a graceful close.
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import type { App } from './app.js'
import { type Config, loadConfig } from './config/index.js'
import { OperatorError } from './lib/errors.js'
import { loggerOptions } from './lib/logger.js'
import { type MetricsListener, startMetricsListener } from './metrics/listener.js'

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
  // The embedded database admits this process alone: `tessera` beside it sends its commands here,
  // over a socket only this OS user can open (src/cli/channel-server.ts). Postgres needs none.
  const commands =
    app.db.kind === 'pglite' && !config.pgliteDir.startsWith('memory://') ? await (await import('./cli/channel-server.js')).listenForCommands(app) : undefined
  let metrics: MetricsListener | undefined
  closeWithGrace({ delay: config.shutdownTimeout * 1000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'closing after an error')
    else logger.info({ signal }, 'draining in-flight requests, then closing')
    // Commands under way finish before the database closes.
    await commands?.close()
    await app.close()
    // Last, so that the drain itself can still be scraped.
    await metrics?.close()
  })
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await commands?.close()
    await app.close().catch(() => {})
    fail(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`)
  }
  // Prometheus /metrics on its own port only (README.md#metrics), never on the public one.
  if (config.metricsPort > 0) {
    try {
      metrics = await startMetricsListener(app, { host: config.metricsHost, port: config.metricsPort })
    } catch (err) {
      await app.close().catch(() => {})
      fail(`cannot listen for metrics on ${config.metricsHost}:${config.metricsPort}: ${(err as Error).message}`)
    }
  }
  logger.info(
    { issuer: config.issuer, database: app.db.kind, active_kid: app.keys.signer.kid, ...(metrics ? { metrics: `${metrics.url}/metrics` } : {}) },
    'tessera ready',
  )
}

function fail(message: string): never {
  process.stderr.write(`tessera: ${message}\n`)
  process.exit(1)
}

await main()
