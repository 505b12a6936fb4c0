// The grant registry: grant_type → handler. The token route looks handlers up here, the
// discovery metadata lists what is here, and client registration accepts only these.
import type { PasswordCheckDeps } from '../../accounts/password-check.js'
import type { AuditTrail } from '../../audit/trail.js'
import type { Config } from '../../config/index.js'
import type { KeyRing } from '../../keys/keyring.js'
import type { Clock } from '../../lib/clock.js'
import type { TokenService } from '../tokens/service.js'
import { type AuthorizationCodeGrantDeps, authorizationCodeGrant } from './authorization_code.js'
import { clientCredentialsGrant } from './client_credentials.js'
import { type PasswordGrantDeps, passwordGrant } from './password.js'
import { type RefreshTokenGrantDeps, refreshTokenGrant } from './refresh_token.js'
import type { GrantHandler } from './types.js'

/** Every grant_type Tessera implements, in the order the metadata lists them. */
export const GRANT_TYPES = ['authorization_code', 'password', 'refresh_token', 'client_credentials'] as const

export interface GrantDeps {
  config: Config
  /** The password check and its lockout. */
  check: PasswordCheckDeps
  /** The store methods the grants use, and nothing more. */
  stores: {
    users: PasswordGrantDeps['users'] & RefreshTokenGrantDeps['users']
    families: PasswordGrantDeps['families'] & RefreshTokenGrantDeps['families'] & AuthorizationCodeGrantDeps['families']
    authorizationCodes: AuthorizationCodeGrantDeps['codes']
  }
  tokens: TokenService
  keys: Pick<KeyRing, 'verificationKey'>
  audit: AuditTrail
  clock: Clock
}

export type GrantRegistry = ReadonlyMap<string, GrantHandler>

export function createGrants({ config, check, stores, tokens, keys, audit, clock }: GrantDeps): GrantRegistry {
  const { users, families } = stores
  const handlers = [
    authorizationCodeGrant({ codes: stores.authorizationCodes, users, families, tokens, audit, clock }),
    passwordGrant({ users, families, tokens, check, audit, clock }),
    refreshTokenGrant({ config, keys, users, families, tokens, audit, clock }),
    clientCredentialsGrant({ config, tokens }),
  ]
  return new Map(handlers.map((h) => [h.grantType, h]))
}
