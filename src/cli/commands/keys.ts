// `tessera keys list|rotate|retire|import`: the signing-key ring. `list` is read-only and needs
// no key-encryption key; the others go through the same lifecycle as /admin/keys.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { keyView } from '../../keys/view.js'
import { InvalidRequest } from '../../oauth/errors.js'
import type { Context, Runner } from '../command.js'
import { str } from '../command.js'
import { date, table } from '../output.js'

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

/** The lifecycle over the CLI's database: needs the key-encryption key (new keys are sealed). */
async function lifecycleOf({ config, db, stores, audit }: Context) {
  const [{ KeyRing }, { keyLifecycle }, { loadKek }, { systemClock }] = await Promise.all([
    import('../../keys/keyring.js'),
    import('../../keys/lifecycle.js'),
    import('../../keys/sealing.js'),
    import('../../lib/clock.js'),
  ])
  const kek = loadKek(config)
  const ring = new KeyRing(db, stores.keys, kek, systemClock)
  // Opening the ring checks the key-encryption key before anything is changed.
  await ring.load()
  return keyLifecycle({ db, store: stores.keys, families: stores.families, ring, kek, clock: systemClock, config, audit })
}

export const rotateKeys: Runner = async (ctx, flags) => {
  const r = await (await lifecycleOf(ctx)).rotate({ emergency: flags.now === true })
  const text = r.emergency
    ? `Emergency rotation: ${r.active} signs now; ${r.previous ?? '-'} was removed and its tokens no longer verify. New next key: ${r.next}.`
    : `Rotated: ${r.active} signs now; ${r.previous ?? '-'} is retiring (published until its access tokens expire). New next key: ${r.next}.`
  return { json: r, text }
}

export const retireKey: Runner = async (ctx, flags) => {
  const kid = str(flags, '_')!
  const state = await (await lifecycleOf(ctx)).retire(kid)
  return {
    json: { kid, state },
    text: state === 'deleted' ? `Removed unused next key ${kid}; a new next key is published.` : `Retired ${kid}: no longer published.`,
  }
}

export const importKey: Runner = async (ctx, flags) => {
  const file = str(flags, '_')!
  let pem: string
  try {
    pem = readFileSync(resolve(ctx.cwd, file), 'utf8')
  } catch (err) {
    throw new InvalidRequest(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const key = await (await lifecycleOf(ctx)).importPem(pem)
  return { json: keyView(key), text: `Imported ${key.kid} as the next key; it may sign after KEY_PREPUBLISH (keys rotate).` }
}
