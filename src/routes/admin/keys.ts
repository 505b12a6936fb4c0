// The signing keys (docs/endpoints.md#admin-keys): list, rotate (planned or emergency), retire.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import Value from 'typebox/value'
import { requestMeta } from '../../http/request-meta.js'
import { keyView } from '../../keys/view.js'
import { InvalidRequest } from '../../oauth/errors.js'
import { withErrors } from '../../schemas/errors.js'
import { KeyView, KidParams, RetiredView, RotateBody, RotationView } from '../../schemas/keys.js'

const keys: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearer: [] }]
  app.get('/keys', { schema: { security, response: withErrors({ 200: Type.Object({ keys: Type.Array(KeyView) }) }) } }, async () => ({
    keys: (await app.stores.keys.all()).map(keyView),
  }))

  // The body is optional (a bare POST is a planned rotation), so it is checked here: Fastify
  // would refuse a POST without one.
  app.post('/keys/rotate', { schema: { security, response: withErrors({ 200: RotationView }) } }, async (req) => {
    const body = req.body ?? {}
    if (!Value.Check(RotateBody, body)) throw new InvalidRequest('The body may only hold {"now": true|false}.')
    const result = await app.keyLifecycle.rotate({ emergency: body.now ?? false, actor: req.token.sub })
    req.log.info({ ...result, ...requestMeta(req) }, 'keys rotated through the admin API')
    return result
  })

  app.post('/keys/:kid/retire', { schema: { security, params: KidParams, response: withErrors({ 200: RetiredView }) } }, async (req) => ({
    kid: req.params.kid,
    state: await app.keyLifecycle.retire(req.params.kid, req.token.sub),
  }))
}

export default keys
