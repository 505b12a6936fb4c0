// `tessera keys list`: the signing-key ring as stored. Read-only; needs no key-encryption key.
import type { StoredKey } from '../../stores/keys.js'
import type { Runner } from '../command.js'
import { date, table } from '../output.js'

/** Public facts only: never the sealed private key. */
const keyView = (k: StoredKey) => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt.toISOString(),
  published_at: k.publishedAt.toISOString(),
  activated_at: k.activatedAt?.toISOString() ?? null,
  retiring_at: k.retiringAt?.toISOString() ?? null,
  retired_at: k.retiredAt?.toISOString() ?? null,
})

export const listKeys: Runner = async ({ stores }) => {
  const keys = await stores.keys.all()
  const text =
    keys.length === 0
      ? 'No signing keys yet: the server makes the first pair when it starts.'
      : table(
          ['KID', 'STATE', 'CREATED', 'PUBLISHED', 'ACTIVATED'],
          keys.map((k) => [k.kid, k.state, date(k.createdAt), date(k.publishedAt), date(k.activatedAt)]),
        )
  return { json: keys.map(keyView), text }
}
