// /admin/clients (docs/endpoints.md#admin-clients): register (the secret shown once), list, one, delete.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createClient, deleteClient, findClient, listClients } from '../../clients/admin.js'
import { clientView } from '../../clients/view.js'
import { requestMeta } from '../../http/request-meta.js'
import { ClientCreateBody, ClientDeleted, ClientView, CreatedClientView, IdParams, limitOf, PageQuery, page } from '../../schemas/admin.js'
import { withErrors } from '../../schemas/errors.js'

const clients: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, audit, clock, config } = app
  const deps = { clients: stores.clients, families: stores.families, audit, clock }
  const security = [{ bearer: [] }]

  app.get('/clients', { schema: { security, querystring: PageQuery, response: withErrors({ 200: page(ClientView) }) } }, async (req) =>
    listClients(deps, { cursor: req.query.cursor, limit: limitOf(req.query) }),
  )

  app.post('/clients', { schema: { security, body: ClientCreateBody, response: withErrors({ 201: CreatedClientView }) } }, async (req, reply) => {
    const b = req.body
    const { client, secret } = await createClient(
      deps,
      {
        name: b.name,
        grantTypes: b.grant_types,
        scopes: b.scopes,
        audience: b.audience,
        public: b.public,
        cookieDelivery: b.cookie_delivery,
        redirectUris: b.redirect_uris,
        postLogoutRedirectUris: b.post_logout_redirect_uris,
        firstParty: b.first_party,
        reuseLeeway: b.reuse_leeway,
      },
      { issuer: config.issuer },
      { userId: req.token.sub, meta: requestMeta(req), via: 'api' },
    )
    return reply.code(201).send({ ...clientView(client), ...(secret ? { client_secret: secret } : {}) })
  })

  app.get('/clients/:id', { schema: { security, params: IdParams, response: withErrors({ 200: ClientView }) } }, async (req) =>
    clientView(await findClient(deps, req.params.id)),
  )

  app.delete('/clients/:id', { schema: { security, params: IdParams, response: withErrors({ 200: ClientDeleted }) } }, async (req) => {
    const { revokedFamilies } = await deleteClient(deps, req.params.id, { userId: req.token.sub, meta: requestMeta(req), via: 'api' })
    return { client_id: req.params.id, revoked_families: revokedFamilies }
  })
}

export default clients
