// The signing-key lifecycle (docs/keys.md#key-states): next → active → retiring → retired → deleted.
// Planned rotation promotes a key that resource servers have already cached; emergency
// rotation (`--now`) drops the old key at once. Every change runs under the cluster-wide
// `keys` lock, and every instance picks it up by polling the ring's fingerprint.
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import type { AuditTrail } from '../audit/trail.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { Conflict, InvalidRequest, NotFound } from '../oauth/errors.js'
import type { Database } from '../stores/database.js'
import type { FamilyStore } from '../stores/families.js'
import type { KeyState, KeyStore, StoredKey } from '../stores/keys.js'
import { type KeyRing, newKeyPair } from './keyring.js'
import { seal } from './sealing.js'

export interface RotationResult {
  /** The key that signs from now on. */
  active: string
  /** The key that stopped signing: `retiring` (planned) or removed (emergency). */
  previous: string | null
  emergency: boolean
  /** The freshly published key that the next rotation will promote. */
  next: string
}

export interface LifecycleDeps {
  db: Database
  store: KeyStore
  /** Families whose current refresh token a key signed: they decide when it may go. */
  families: Pick<FamilyStore, 'anyLiveSignedBy' | 'revokeSignedBy'>
  ring: KeyRing
  kek: Buffer
  clock: Clock
  config: Config
  audit: AuditTrail
  log?: { info(o: object, msg: string): void; warn(o: object, msg: string): void; error(o: object, msg: string): void }
}

export function keyLifecycle(deps: LifecycleDeps) {
  const { db, store, families, ring, kek, clock, config, audit } = deps
  const now = () => new Date(clock.now())
  let lastFingerprint: string | undefined
  let timer: NodeJS.Timeout | undefined

  const newest = (keys: StoredKey[], state: StoredKey['state']) =>
    keys.filter((k) => k.state === state).sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime())[0]

  async function publishNext(at: Date): Promise<StoredKey> {
    return store.create({ ...(await newKeyPair(kek)), state: 'next', at })
  }

  async function rotateLocked(emergency: boolean, actor: string | null): Promise<RotationResult> {
    const keys = await store.all()
    const at = now()
    const active = newest(keys, 'active')
    let next = newest(keys, 'next')
    if (!next) {
      next = await publishNext(at)
      if (!emergency) {
        throw new Conflict(
          `There was no next key; ${next.kid} is published now and may sign after KEY_PREPUBLISH (${config.keyPrepublish} s). Rotate then, or use --now.`,
        )
      }
    }
    const published = (at.getTime() - next.publishedAt.getTime()) / 1000
    if (!emergency && published < config.keyPrepublish) {
      const wait = Math.ceil(config.keyPrepublish - published)
      throw new Conflict(
        `The next key ${next.kid} has been published for ${Math.floor(published)} s; resource servers may not have it cached until KEY_PREPUBLISH (${config.keyPrepublish} s). Rotate in ${wait} s, or use --now in an emergency.`,
      )
    }
    const fresh = await publishNext(at)
    // Other `next` keys never signed anything: the newest one is promoted, the rest go.
    const stale = keys.filter((k) => k.state === 'next' && k.kid !== next.kid).map((k) => k.kid)
    const changes: { kid: string; state: KeyState; at: Date }[] = [{ kid: next.kid, state: 'active', at }]
    if (active && !emergency) changes.push({ kid: active.kid, state: 'retiring', at })
    await store.transition(changes, [...stale, ...(active && emergency ? [active.kid] : [])])
    if (active && emergency) {
      // Compromise: the old key verifies nothing any more, so its families cannot refresh.
      const revoked = await families.revokeSignedBy(active.kid, 'key_compromised', at)
      deps.log?.warn({ kid: active.kid, families: revoked }, 'emergency rotation: old key removed')
    }
    const result = { active: next.kid, previous: active?.kid ?? null, emergency, next: fresh.kid }
    await audit.record({ type: 'key.rotated', actorId: actor, details: { ...result } })
    return result
  }

  /** Loads the ring again if another instance (or this one) changed it. */
  async function refresh(force = false): Promise<boolean> {
    const f = await store.fingerprint()
    if (!force && f === lastFingerprint) return false
    await ring.load()
    lastFingerprint = f
    return true
  }

  const api = {
    async rotate(opts: { emergency?: boolean; actor?: string | null } = {}): Promise<RotationResult> {
      const result = await db.withLock('keys', () => rotateLocked(opts.emergency ?? false, opts.actor ?? null))
      await refresh(true)
      return result
    },

    async retire(kid: string, actor: string | null = null): Promise<'retired' | 'deleted'> {
      const outcome = await db.withLock('keys', async () => {
        const key = (await store.all()).find((k) => k.kid === kid)
        if (!key) throw new NotFound(`No signing key with kid ${kid}.`)
        const at = now()
        switch (key.state) {
          case 'active':
            throw new Conflict(`${kid} is the active key: retiring it would leave nothing to sign with. Rotate first (keys rotate), then retire it.`)
          case 'retired':
            throw new Conflict(`${kid} is already retired.`)
          case 'next':
            // Never signed anything: drop it, and publish a replacement so rotation stays possible.
            await store.transition([], [kid])
            await publishNext(at)
            await audit.record({ type: 'key.retired', actorId: actor, details: { kid, from: 'next' } })
            return 'deleted' as const
          case 'retiring':
            await store.transition([{ kid, state: 'retired', at }])
            await audit.record({ type: 'key.retired', actorId: actor, details: { kid, from: 'retiring' } })
            return 'retired' as const
        }
      })
      await refresh(true)
      return outcome
    },

    /** Adds an existing RSA private key (PEM, ≥ 2048 bits) as the `next` key, in place of the generated one. */
    async importPem(pem: string, actor: string | null = null): Promise<StoredKey> {
      let key: KeyObject
      try {
        key = createPrivateKey(pem)
      } catch {
        throw new InvalidRequest('Not a PEM private key.')
      }
      if (key.asymmetricKeyType !== 'rsa') throw new InvalidRequest(`Not an RSA private key (it is ${key.asymmetricKeyType ?? 'unknown'}).`)
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
      if (bits < 2048) throw new InvalidRequest(`The RSA key has ${bits} bits; at least 2048 are needed.`)
      const { n, e } = key.export({ format: 'jwk' })
      const publicJwk = { kty: 'RSA' as const, n: n!, e: e! }
      const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
      const stored = await db.withLock('keys', async () => {
        const keys = await store.all()
        if (keys.some((k) => k.kid === kid)) throw new Conflict(`The key ${kid} is already in the ring.`)
        const pkcs8 = key.export({ format: 'der', type: 'pkcs8' })
        const created = await store.create({ kid, publicJwk, sealedPrivateKey: seal(kek, pkcs8, kid), state: 'next', at: now() })
        // It replaces the generated next key (which never signed anything): one next at a time.
        await store.transition(
          [],
          keys.filter((k) => k.state === 'next').map((k) => k.kid),
        )
        return created
      })
      await audit.record({ type: 'key.imported', actorId: actor, details: { kid } })
      await refresh(true)
      return stored
    },

    /**
     * Moves keys on by time: `retiring` → `retired` once every access token they signed has
     * expired (plus the cache margin); `retired` → deleted once no live refresh token needs them.
     * With KEY_ROTATION_INTERVAL set, rotates when the active key is that old. Under the lock,
     * so with several instances exactly one does each step.
     */
    async sweep(): Promise<void> {
      await db.withLock('keys', async () => {
        const at = now()
        const keys = await store.all()
        const margin = (config.accessTokenTtl + config.keyPrepublish) * 1000
        const retire = keys.filter((k) => k.state === 'retiring' && k.retiringAt && at.getTime() - k.retiringAt.getTime() >= margin)
        if (retire.length) await store.transition(retire.map((k) => ({ kid: k.kid, state: 'retired' as const, at })))
        for (const k of keys.filter((k) => k.state === 'retired')) {
          if (!(await families.anyLiveSignedBy(k.kid, at))) await store.delete(k.kid)
        }
        const active = newest(keys, 'active')
        const due = config.keyRotationInterval > 0 && active?.activatedAt && at.getTime() - active.activatedAt.getTime() >= config.keyRotationInterval * 1000
        if (due) {
          try {
            const r = await rotateLocked(false, null)
            deps.log?.info({ ...r }, 'scheduled key rotation')
          } catch (err) {
            if (err instanceof Conflict) deps.log?.warn({ reason: err.description }, 'scheduled rotation postponed')
            else throw err
          }
        }
      })
    },

    refresh,

    /** One step of the background loop: move keys on, then pick up any change to the ring. */
    async tick(): Promise<void> {
      await api.sweep()
      await refresh()
    },

    start(intervalMs: number): void {
      let running = false
      timer = setInterval(() => {
        if (running) return
        running = true
        api
          .tick()
          .catch((err) => deps.log?.error({ err }, 'key ring refresh failed'))
          .finally(() => {
            running = false
          })
      }, intervalMs)
      timer.unref()
    },

    stop(): void {
      if (timer) clearInterval(timer)
    },
  }
  return api
}

export type KeyLifecycle = ReturnType<typeof keyLifecycle>
