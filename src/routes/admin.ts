// /admin/*: bearer tokens with the admin role only. Keys: list, rotate, retire (SPEC §4, §5).
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import Type from 'typebox'
import Value from 'typebox/value'
import { InvalidRequest } from '../oauth/errors.js'
import bearer, { requireRole } from '../plugins/bearer.js'
import { KeyView, KidParams, RotateBody, RotationView } from '../schemas/keys.js'
import type { StoredKey } from '../stores/keys.js'
import { requestMeta } from './oauth.js'

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

export default async function adminRoutes(app: FastifyInstance) {
  await app.register(bearer)
  app.addHook('preHandler', requireRole('admin'))

  app.get('/keys', { schema: { response: { 200: Type.Object({ keys: Type.Array(KeyView) }) } } }, async () => ({
    keys: (await app.stores.keys.all()).map(keyView),
  }))

  // The body is optional (a bare POST is a planned rotation), so it is checked here, not by Fastify.
  app.post('/keys/rotate', { schema: { response: { 200: RotationView } } }, async (req) => {
    const body = req.body ?? {}
    if (!Value.Check(RotateBody, body)) throw new InvalidRequest('The body may only hold {"now": true|false}.')
    const result = await app.keyLifecycle.rotate({ emergency: body.now ?? false, actor: req.token.sub })
    req.log.info({ ...result, ...requestMeta(req) }, 'keys rotated through the admin API')
    return result
  })

  app.post<{ Params: Static<typeof KidParams> }>(
    '/keys/:kid/retire',
    { schema: { params: KidParams, response: { 200: Type.Object({ kid: Type.String(), state: Type.String() }) } } },
    async (req) => ({ kid: req.params.kid, state: await app.keyLifecycle.retire(req.params.kid, req.token.sub) }),
  )
}
