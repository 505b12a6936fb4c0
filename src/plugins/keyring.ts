// Loads the signing-key ring at start (creating the first keys on a fresh database) and keeps
// it current: polling for changes made by other instances, moving keys on by time.
import { hkdfSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { KeyRing } from '../keys/keyring.js'
import { type KeyLifecycle, keyLifecycle } from '../keys/lifecycle.js'
import { loadKek } from '../keys/sealing.js'
import type { Clock } from '../lib/clock.js'

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyRing
    keyLifecycle: KeyLifecycle
    /** The hosted pages' HMAC key (CSRF tokens, device cookies): derived from the KEK, so every instance has the same. */
    pageSecret: Buffer
  }
}

async function keyring(app: FastifyInstance, opts: { config: Config; clock: Clock }) {
  const kek = loadKek(opts.config, (msg) => app.log.warn(msg))
  const { keys: store, families } = app.stores
  const ring = new KeyRing(app.db, store, kek, opts.clock)
  await ring.bootstrap()
  const lifecycle = keyLifecycle({ db: app.db, store, families, ring, kek, clock: opts.clock, config: opts.config, audit: app.audit, log: app.log })
  await lifecycle.refresh(true)
  // Every instance polls: it sees another's rotation within KEY_RING_POLL, and moves keys on.
  if (opts.config.keyRingPoll > 0) {
    lifecycle.start(opts.config.keyRingPoll * 1000)
    app.addHook('onClose', async () => lifecycle.stop())
  }
  app.decorate('keys', ring)
  app.decorate('pageSecret', Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'tessera hosted pages v1', 32)))
  app.decorate('keyLifecycle', lifecycle)
}

export default fp(keyring, { name: 'keyring', dependencies: ['database'] })
