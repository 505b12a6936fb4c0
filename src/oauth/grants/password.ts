// grant_type=password (RFC 6749 §4.3), for first-party clients registered for it explicitly.
// Every sign-in starts a refresh family. Unknown email and wrong password are one answer,
// paid for with the same argon2 work.
import type { Config } from '../../config/index.js'
import type { Clock } from '../../lib/clock.js'
import { hashPassword, needsRehash, verifyPassword } from '../../lib/passwords.js'
import { normaliseEmail } from '../../services/accounts.js'
import type { Stores } from '../../stores/index.js'
import { InvalidGrant, InvalidRequest } from '../errors.js'
import { grantScope, parseScope } from '../scopes.js'
import type { TokenService } from '../tokens/service.js'
import type { GrantHandler } from './types.js'

export function passwordGrant(deps: { config: Config; stores: Stores; tokens: TokenService; clock: Clock }): GrantHandler {
  const { stores, tokens, clock } = deps
  return {
    grantType: 'password',
    async handle({ params, client, meta }) {
      const { username, password } = params
      if (!username || password === undefined) throw new InvalidRequest('username and password are required.')
      if (username.length > 254 || password.length > 1024) throw new InvalidGrant('Invalid email or password.')
      const scope = grantScope(parseScope(params.scope), client.scopes).join(' ')

      const user = await stores.users.findByEmail(normaliseEmail(username))
      const ok = await verifyPassword(user?.passwordHash, password)
      if (!user || !ok) {
        await stores.audit.record({ type: 'signin.failed', subjectId: user?.id ?? null, clientId: client.id, ...meta })
        throw new InvalidGrant('Invalid email or password.')
      }
      if (user.disabledAt) {
        // SPEC §4: a disabled user gets invalid_grant on every grant, and loses every family.
        await stores.families.revokeAllOfUser(user.id, 'user_disabled', new Date(clock.now()))
        throw new InvalidGrant('Invalid email or password.')
      }
      if (needsRehash(user.passwordHash)) await stores.users.setPasswordHash(user.id, await hashPassword(password))

      const { family, refresh } = await tokens.startFamily({ userId: user.id, client, scope, meta })
      const access = await tokens.access({ sub: user.id, client, scope, roles: [user.role], sid: family.id })
      await stores.audit.record({ type: 'signin.ok', actorId: user.id, subjectId: user.id, clientId: client.id, ...meta, details: { sid: family.id } })
      return {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: access.expiresIn,
        scope,
        // A family is started either way (it is the session); its token goes only to clients allowed to refresh.
        ...(client.grantTypes.includes('refresh_token') ? { refresh_token: refresh.token, refreshExpiresIn: refresh.expiresIn } : {}),
      }
    },
  }
}
