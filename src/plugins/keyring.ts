// Loads the signing-key ring once at start (creating the first keys on a fresh database).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { KeyRing } from '../keys/keyring.js'
import { loadKek } from '../keys/sealing.js'
import type { Clock } from '../lib/clock.js'
import { keyStore } from '../stores/keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyRing
  }
}

async function keyring(app: FastifyInstance, opts: { config: Config; clock: Clock }) {
  const kek = loadKek(opts.config, (msg) => app.log.warn(msg))
  const ring = new KeyRing(app.db, keyStore(app.db.prisma), kek, opts.clock)
  await ring.bootstrap()
  app.decorate('keys', ring)
}

export default fp(keyring, { name: 'keyring', dependencies: ['database'] })
