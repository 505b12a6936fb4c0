// The introspect step: POST /introspect of a user's access token (it has a sid, so the revocation list and the family are both read).
import { checkIntrospection } from '../lib/checks.js'
import type { Bench } from '../lib/context.js'
import { measure } from '../lib/measure.js'
import { requestsOf } from '../lib/requests.js'

export async function introspect(b: Bench): Promise<void> {
  const { m, sample } = await measure(b, b.server.child.pid!, 'POST /introspect (a user access token)', await requestsOf(b, 'introspect'))
  b.results.introspect = { ...m, check: await checkIntrospection(sample ?? '{}', b.users[0]!.id, b.client.id) }
}
