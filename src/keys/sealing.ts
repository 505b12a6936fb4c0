// Seals signing keys' private parts at rest: AES-256-GCM under the key-encryption key (KEK).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { OperatorError } from '../lib/errors.js'
import { ensurePrivateDirectory } from '../lib/private-dir.js'

export class KeyEncryptionError extends OperatorError {
  override name = 'KeyEncryptionError'
}

export interface KekSource {
  nodeEnv: string
  keyEncryptionKey: Buffer | undefined
  keyFile: string
}

/**
 * The KEK from KEY_ENCRYPTION_KEY, else from the key file; in development the file is
 * generated once (mode 0600). Production never invents a key: losing it would orphan every
 * stored signing key, so it must be given. The key file's directory is its owner's only
 * (0700): created so, an empty one tightened, one open to group or others refused
 * (lib/private-dir.ts).
 */
export function loadKek(source: KekSource, log: (msg: string) => void = () => {}): Buffer {
  if (source.keyEncryptionKey) return source.keyEncryptionKey
  const privateDirectory = () => ensurePrivateDirectory(dirname(source.keyFile), "the key file's directory", (message) => new KeyEncryptionError(message))
  let text: string | undefined
  try {
    text = readFileSync(source.keyFile, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyEncryptionError(`cannot read ${source.keyFile}: ${(err as Error).message}`)
  }
  if (text !== undefined) {
    // A key there already: its directory is checked, never changed.
    privateDirectory()
    if (!/^[0-9a-f]{64}$/i.test(text)) throw new KeyEncryptionError(`${source.keyFile} does not hold a 32-byte hex key`)
    return Buffer.from(text, 'hex')
  }
  if (source.nodeEnv === 'production') {
    throw new KeyEncryptionError('KEY_ENCRYPTION_KEY is required in production (32 bytes, hex or base64: `openssl rand -hex 32`)')
  }
  const key = randomBytes(32)
  privateDirectory()
  // Written in full under a name of its own, then linked into place: a process starting at the
  // same time never reads half a key, and if another one won the race (the link exists), its
  // key is used rather than overwritten.
  const draft = `${source.keyFile}.${process.pid}.${randomBytes(6).toString('hex')}`
  try {
    writeFileSync(draft, `${key.toString('hex')}\n`, { flag: 'wx', mode: 0o600 })
    chmodSync(draft, 0o600)
    linkSync(draft, source.keyFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadKek(source, log)
    throw new KeyEncryptionError(`cannot write ${source.keyFile}: ${(err as Error).message}`)
  } finally {
    rmSync(draft, { force: true })
  }
  log(`generated a key-encryption key in ${source.keyFile} (development only; set KEY_ENCRYPTION_KEY in production)`)
  return key
}

/**
 * Fails early, before the database is opened, when loadKek would fail for want of a key
 * (production with neither KEY_ENCRYPTION_KEY nor a key file). Creates nothing.
 */
export function assertKekAvailable(source: KekSource): void {
  if (source.keyEncryptionKey || source.nodeEnv !== 'production' || existsSync(source.keyFile)) return
  throw new KeyEncryptionError('KEY_ENCRYPTION_KEY is required in production (32 bytes, hex or base64: `openssl rand -hex 32`)')
}

const IV = 12
const TAG = 16

/** iv | tag | ciphertext; `aad` (the kid) binds the blob to its row. */
export function seal(kek: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV)
  const cipher = createCipheriv('aes-256-gcm', kek, iv)
  cipher.setAAD(Buffer.from(aad))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body])
}

export function unseal(kek: Buffer, sealed: Uint8Array, aad: string): Buffer {
  const buf = Buffer.from(sealed)
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, buf.subarray(0, IV))
    decipher.setAAD(Buffer.from(aad))
    decipher.setAuthTag(buf.subarray(IV, IV + TAG))
    return Buffer.concat([decipher.update(buf.subarray(IV + TAG)), decipher.final()])
  } catch {
    throw new KeyEncryptionError(`cannot decrypt signing key ${aad}: KEY_ENCRYPTION_KEY (or the key file) is not the one the keys were sealed with`)
  }
}
