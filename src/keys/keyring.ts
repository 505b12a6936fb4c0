// The key ring: keys loaded once from the database as node:crypto KeyObjects, the JWKS prebuilt
// as bytes with its ETag, and rebuilt only when the ring changes (docs/keys.md#jwks-contents).
import { createHash, createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint } from 'jose'
import type { Clock } from '../lib/clock.js'
import type { Database } from '../stores/database.js'
import type { KeyState, KeyStore, StoredKey } from '../stores/keys.js'
import { seal, unseal } from './sealing.js'

const generateKeyPair = promisify(generateKeyPairCb)

export const ALG = 'RS256'

export interface PublicJwk {
  kty: 'RSA'
  n: string
  e: string
  kid: string
  use: 'sig'
  alg: typeof ALG
}

/** A private key that signs, and the kid its tokens name. */
export interface SigningKey {
  kid: string
  /** Imported once; node:crypto signs with it off the event loop (see oauth/tokens/sign.ts). */
  key: KeyObject
}

export interface VerificationKey {
  kid: string
  state: KeyState
  /** The public key, imported once; tokens/verify.ts checks signatures with it. */
  key: KeyObject
}

/** States whose public key is in the JWKS, in the order the JWKS lists them. */
const PUBLISHED: KeyState[] = ['active', 'next', 'retiring']

/** A new RSA-2048 key pair, its RFC 7638 thumbprint as kid, the private part sealed. */
export async function newKeyPair(kek: Buffer): Promise<{ kid: string; publicJwk: StoredKey['publicJwk']; sealedPrivateKey: Buffer }> {
  const { publicKey, privateKey } = await generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
  const { n, e } = publicKey.export({ format: 'jwk' })
  const publicJwk = { kty: 'RSA' as const, n: n!, e: e! }
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
  return { kid, publicJwk, sealedPrivateKey: seal(kek, pkcs8, kid) }
}

export class KeyRing {
  #signer: SigningKey | undefined
  #verify = new Map<string, VerificationKey>()
  #jwks = { body: '{"keys":[]}', bytes: Buffer.from('{"keys":[]}'), etag: '"empty"' }
  #keys: StoredKey[] = []
  #privateCache = new Map<string, SigningKey>()

  constructor(
    private readonly db: Database,
    private readonly store: KeyStore,
    private readonly kek: Buffer,
    private readonly clock: Clock,
  ) {}

  /** The key that signs now; throws if the ring has none (readiness reports it). */
  get signer(): SigningKey {
    if (!this.#signer) throw new Error('no active signing key loaded')
    return this.#signer
  }

  get ready(): boolean {
    return this.#signer !== undefined
  }

  get keys(): readonly StoredKey[] {
    return this.#keys
  }

  /** The JWKS response body (as text and as the bytes sent) and its ETag, built once per ring change. */
  get jwks(): { body: string; bytes: Buffer; etag: string } {
    return this.#jwks
  }

  verificationKey(kid: string): VerificationKey | undefined {
    return this.#verify.get(kid)
  }

  /**
   * The private key of any key still in the ring, for signing a family's current refresh
   * token again (docs/tokens.md#reuse-leeway) after the key that first signed it stopped being active.
   */
  async signerFor(kid: string): Promise<SigningKey | undefined> {
    if (this.#signer?.kid === kid) return this.#signer
    const cached = this.#privateCache.get(kid)
    if (cached) return cached
    const stored = this.#keys.find((k) => k.kid === kid)
    if (!stored) return undefined
    const pkcs8 = unseal(this.kek, stored.sealedPrivateKey, kid)
    const signer = { kid, key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) }
    this.#privateCache.set(kid, signer)
    return signer
  }

  /**
   * First start: make one `active` and one `next` key. Runs under a cluster-wide lock so
   * that several instances starting together create exactly one pair.
   */
  async bootstrap(): Promise<void> {
    await this.db.withLock('keys', async () => {
      const keys = await this.store.all()
      // Open every key now: a wrong KEK must stop the start, never lead to fresh keys.
      for (const k of keys) unseal(this.kek, k.sealedPrivateKey, k.kid)
      const at = new Date(this.clock.now())
      if (!keys.some((k) => k.state === 'active')) await this.store.create({ ...(await newKeyPair(this.kek)), state: 'active', at })
      if (!keys.some((k) => k.state === 'next')) await this.store.create({ ...(await newKeyPair(this.kek)), state: 'next', at })
    })
    await this.load()
  }

  /** Reads the ring from the database and swaps it in at once. */
  async load(): Promise<void> {
    const keys = await this.store.all()
    const verify = new Map<string, VerificationKey>()
    let signer: SigningKey | undefined
    for (const k of keys) {
      const key = createPublicKey({ key: { kty: 'RSA', n: k.publicJwk.n, e: k.publicJwk.e }, format: 'jwk' })
      verify.set(k.kid, { kid: k.kid, state: k.state, key })
      if (k.state === 'active') {
        const pkcs8 = unseal(this.kek, k.sealedPrivateKey, k.kid)
        signer = { kid: k.kid, key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) }
      }
    }
    const published: PublicJwk[] = PUBLISHED.flatMap((state) =>
      keys.filter((k) => k.state === state).map((k) => ({ kty: 'RSA', n: k.publicJwk.n, e: k.publicJwk.e, kid: k.kid, use: 'sig', alg: ALG })),
    )
    const body = JSON.stringify({ keys: published })
    this.#jwks = { body, bytes: Buffer.from(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
    this.#keys = keys
    this.#privateCache = new Map()
    this.#verify = verify
    this.#signer = signer
  }
}
