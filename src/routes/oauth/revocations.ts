// GET /revocations (docs/tokens.md#revocation-feed, docs/endpoints.md#get-revocations): the revocation feed, for
// confidential clients (resource servers), authenticated as at /introspect. A poll whose
// If-None-Match names the feed as this instance knows it is a 304 with no database read.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { authenticateClient } from '../../oauth/client-auth.js'
import { InvalidClient } from '../../oauth/errors.js'
import { etagMatches } from '../../oauth/revocation-feed.js'
import { withErrors } from '../../schemas/errors.js'
import { FeedNotModified, RevocationFeed, RevocationsQuery } from '../../schemas/oauth.js'

const revocations: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, revocationFeed: feed } = app

  app.get(
    '/revocations',
    { schema: { security: [{ clientSecretBasic: [] }], querystring: RevocationsQuery, response: withErrors({ 200: RevocationFeed, 304: FeedNotModified }) } },
    async (req, reply) => {
      // A GET has no body: client_secret_basic is the only way to authenticate here.
      const { client } = await authenticateClient(stores.clients, req.headers.authorization, {})
      if (client.public) throw new InvalidClient('Public clients may not read the revocation feed.')
      const ifNoneMatch = req.headers['if-none-match']
      const known = feed.unchanged(ifNoneMatch)
      if (known !== undefined) return reply.code(304).header('etag', known).send(undefined)
      const { body, etag } = await feed.read(req.query.since)
      reply.header('etag', etag)
      if (etagMatches(ifNoneMatch, etag)) return reply.code(304).send(undefined)
      return body
    },
  )
}

export default revocations
