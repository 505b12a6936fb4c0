// The client_credentials step: POST /token for the client itself, one signature a request, bracketed by the jose sign baseline.
import { checkClientCredentials } from '../lib/checks.js'
import type { Bench } from '../lib/context.js'
import { measure } from '../lib/measure.js'
import { requestsOf } from '../lib/requests.js'
import { signBaseline } from './baselines.js'

export async function clientCredentials(b: Bench): Promise<void> {
  const { m, sample } = await measure(b, b.server.child.pid!, 'POST /token client_credentials', await requestsOf(b, 'client_credentials'))
  b.results.client_credentials = { ...m, check: await checkClientCredentials(sample ?? '{}', b.server.target, b.client.id) }
  if (b.wanted('sign')) b.results.signAfter = await signBaseline(b, ' (again, after)')
}
