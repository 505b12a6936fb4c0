// A client as the CLI and the admin API show it: never its secret, never the secret's hash.
import type { Client } from '../stores/clients.js'

export const clientView = (c: Client) => ({
  client_id: c.id,
  name: c.name,
  public: c.public,
  cookie_delivery: c.cookieDelivery,
  grant_types: c.grantTypes,
  scopes: c.scopes,
  audience: c.audience,
  redirect_uris: c.redirectUris,
  post_logout_redirect_uris: c.postLogoutRedirectUris,
  first_party: c.firstParty,
  reuse_leeway: c.reuseLeeway,
  created_at: c.createdAt.toISOString(),
})
