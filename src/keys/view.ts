// A signing key as the admin API and the CLI show it: public facts only, never the sealed
// private part.
import type { StoredKey } from '../stores/keys.js'

const iso = (d: Date | null) => d?.toISOString() ?? null

export const keyView = (k: StoredKey) => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt.toISOString(),
  published_at: k.publishedAt.toISOString(),
  activated_at: iso(k.activatedAt),
  retiring_at: iso(k.retiringAt),
  retired_at: iso(k.retiredAt),
})
