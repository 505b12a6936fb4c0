// Seals signing keys' private parts at rest: AES-256-GCM under the key-encryption key (KEK).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { OperatorError } from '../lib/errors.js'

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
 * stored signing key, so it must be given.
 */
export function loadKek(source: KekSource, log: (msg: string) => void = () => {}): Buffer {
  if (source.keyEncryptionKey) return source.keyEncryptionKey
  let text: string | undefined
  try {
    text = readFileSync(source.keyFile, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyEncryptionError(`cannot read ${source.keyFile}: ${(err as Error).message}`)
  }
  if (text !== undefined) {
    if (!/^[0-9a-f]{64}$/i.test(text)) throw new KeyEncryptionError(`${source.keyFile} does not hold a 32-byte hex key`)
    return Buffer.from(text, 'hex')
  }
  if (source.nodeEnv === 'production') {
    throw new KeyEncryptionError('KEY_ENCRYPTION_KEY is required in production (32 bytes, hex or base64: `openssl rand -hex 32`)')
  }
  const key = randomBytes(32)
  mkdirSync(dirname(source.keyFile), { recursive: true })
  try {
    // 'wx': if another process won the race, use its key rather than overwrite it.
    writeFileSync(source.keyFile, `${key.toString('hex')}\n`, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadKek(source, log)
    throw new KeyEncryptionError(`cannot write ${source.keyFile}: ${(err as Error).message}`)
  }
  chmodSync(source.keyFile, 0o600)
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
