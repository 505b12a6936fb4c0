// The key ring: keys loaded once from the database as node:crypto KeyObjects, the JWKS prebuilt
// as bytes with its ETag, and rebuilt only when the ring changes (docs/keys.md#jwks-contents).
import { createHash, createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint } from 'jose'
import type { Clock } from '../lib/clock.js'
import { OperatorError } from '../lib/errors.js'
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

/** A stored key that is not what its row says: the ring is not loaded (docs/keys.md#kid). */
export class KeyRingError extends OperatorError {
  override name = 'KeyRingError'
}

/**
 * Opens a stored key and checks its row against it: the public key is derived from the
 * unsealed private key, never taken from the row, and the row's public JWK and kid must be that
 * key's and its RFC 7638 thumbprint. A row that says otherwise (altered in the database) would
 * publish one key and sign with another, or let its writer pick the key tokens verify with.
 */
export async function openStoredKey(kek: Buffer, stored: StoredKey): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const privateKey = createPrivateKey({ key: unseal(kek, stored.sealedPrivateKey, stored.kid), format: 'der', type: 'pkcs8' })
  const publicKey = createPublicKey(privateKey)
  const { kty, n, e } = publicKey.export({ format: 'jwk' })
  const row = stored.publicJwk as Partial<StoredKey['publicJwk']> | null
  if (kty !== 'RSA' || !n || !e || row?.kty !== 'RSA' || row.n !== n || row.e !== e) {
    throw new KeyRingError(
      `signing key ${stored.kid}: the public key stored beside it is not the public key of its private key; refusing to load the key ring (the signing_keys row was altered)`,
    )
  }
  if ((await calculateJwkThumbprint({ kty, n, e }, 'sha256')) !== stored.kid) {
    throw new KeyRingError(
      `signing key ${stored.kid}: its kid is not the RFC 7638 thumbprint of its key; refusing to load the key ring (the signing_keys row was altered)`,
    )
  }
  return { privateKey, publicKey }
}

export class KeyRing {
  #signer: SigningKey | undefined
  #verify = new Map<string, VerificationKey>()
  #jwks = { body: '{"keys":[]}', bytes: Buffer.from('{"keys":[]}'), etag: '"empty"' }
  #keys: StoredKey[] = []
  /** Every key's private key: load() opens each one to check it. */
  #signers = new Map<string, SigningKey>()

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
    return this.#signers.get(kid)
  }

  /**
   * First start: make one `active` and one `next` key. Runs under a cluster-wide lock so
   * that several instances starting together create exactly one pair.
   */
  async bootstrap(): Promise<void> {
    await this.db.withLock('keys', async () => {
      const keys = await this.store.all()
      // Open and check every key now: a wrong KEK or an altered row must stop the start, never
      // lead to fresh keys.
      for (const k of keys) await openStoredKey(this.kek, k)
      const at = new Date(this.clock.now())
      if (!keys.some((k) => k.state === 'active')) await this.store.create({ ...(await newKeyPair(this.kek)), state: 'active', at })
      if (!keys.some((k) => k.state === 'next')) await this.store.create({ ...(await newKeyPair(this.kek)), state: 'next', at })
    })
    await this.load()
  }

  /**
   * Reads the ring from the database and swaps it in at once; or, if any key fails
   * openStoredKey, throws KeyRingError naming it and keeps the ring it had.
   */
  async load(): Promise<void> {
    const keys = await this.store.all()
    const verify = new Map<string, VerificationKey>()
    const signers = new Map<string, SigningKey>()
    for (const k of keys) {
      const { privateKey, publicKey } = await openStoredKey(this.kek, k)
      verify.set(k.kid, { kid: k.kid, state: k.state, key: publicKey })
      signers.set(k.kid, { kid: k.kid, key: privateKey })
    }
    const active = keys.find((k) => k.state === 'active')
    const signer = active && signers.get(active.kid)
    const published: PublicJwk[] = PUBLISHED.flatMap((state) =>
      keys.filter((k) => k.state === state).map((k) => ({ kty: 'RSA', n: k.publicJwk.n, e: k.publicJwk.e, kid: k.kid, use: 'sig', alg: ALG })),
    )
    const body = JSON.stringify({ keys: published })
    this.#jwks = { body, bytes: Buffer.from(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
    this.#keys = keys
    this.#signers = signers
    this.#verify = verify
    this.#signer = signer
  }
}
