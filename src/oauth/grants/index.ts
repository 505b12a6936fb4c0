// The grant registry: grant_type → handler. The token route looks handlers up here.
import type { Config } from '../../config/index.js'
import type { KeyRing } from '../../keys/keyring.js'
import type { Clock } from '../../lib/clock.js'
import type { Stores } from '../../stores/index.js'
import type { TokenService } from '../tokens/service.js'
import { clientCredentialsGrant } from './client_credentials.js'
import { passwordGrant } from './password.js'
import { refreshTokenGrant } from './refresh_token.js'
import type { GrantHandler } from './types.js'

export interface GrantDeps {
  config: Config
  stores: Stores
  tokens: TokenService
  keys: KeyRing
  clock: Clock
}

export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials'] as const

export function createGrants(deps: GrantDeps): Map<string, GrantHandler> {
  const handlers = [passwordGrant(deps), refreshTokenGrant(deps), clientCredentialsGrant(deps)]
  return new Map(handlers.map((h) => [h.grantType, h]))
}
