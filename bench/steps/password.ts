// The password step: POST /token sign-ins of one seeded user, one argon2id verification each, bracketed by the argon2 baseline.
import { checkUserTokens } from '../lib/checks.js'
import type { Bench } from '../lib/context.js'
import { measure } from '../lib/measure.js'
import { requestsOf } from '../lib/requests.js'
import { argon2Baseline } from './baselines.js'

export async function password(b: Bench): Promise<void> {
  const { m, sample } = await measure(b, b.server.child.pid!, 'POST /token password', await requestsOf(b, 'password'))
  b.results.password = { ...m, check: (await checkUserTokens(sample ?? '{}', b.server.target, b.client.id, b.passwordUser.id)).note }
  if (b.wanted('argon2')) b.results.argon2After = await argon2Baseline(b, ' (again, after)')
}
