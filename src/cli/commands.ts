// Every `tessera` command: its words, flags and help (SPEC §8). The code behind each one is
// imported only when it runs. Key rotation (`keys rotate`, `keys retire`) comes later.
import type { Command } from './command.js'

export const COMMANDS: readonly Command[] = [
  {
    name: 'migrate',
    summary: 'Apply pending database migrations (prisma/migrations) and print what was applied.',
    options: {},
    needsSchema: false,
    load: async () => (await import('./commands/migrate.js')).migrate,
  },
  {
    name: 'users create',
    summary: 'Create a user account (the password is never printed).',
    options: {
      email: { type: 'string', required: true, value: 'E', description: 'Email address; the username for signing in.' },
      password: { type: 'string', required: true, value: 'P', description: '8 to 256 characters; write --password=P if it starts with "-".' },
      role: { type: 'string', value: 'R', choices: ['user', 'admin'], description: 'user or admin (default user); access tokens carry it in `roles`.' },
      name: { type: 'string', value: 'N', description: 'Display name.' },
    },
    needsSchema: true,
    load: async () => (await import('./commands/users.js')).createUser,
  },
  {
    name: 'clients create',
    summary: 'Register an OAuth client; prints its id and, once, its secret.',
    options: {
      name: { type: 'string', required: true, value: 'N', description: 'A name people recognise.' },
      grant: { type: 'string', multiple: true, required: true, value: 'G', description: 'Allowed grant type: password, refresh_token, client_credentials.' },
      scope: { type: 'string', multiple: true, value: 'S', description: 'Allowed scope (repeat it, or give several in one quoted value).' },
      audience: { type: 'string', value: 'A', description: 'Access-token `aud` (default: DEFAULT_AUDIENCE).' },
      public: { type: 'boolean', description: 'A public client: no secret, so no client_credentials.' },
      cookie: { type: 'boolean', description: 'Deliver the refresh token in an HttpOnly cookie.' },
    },
    needsSchema: true,
    load: async () => (await import('./commands/clients.js')).createClient,
  },
  {
    name: 'clients list',
    summary: 'List the registered clients (never their secrets).',
    options: {},
    needsSchema: true,
    load: async () => (await import('./commands/clients.js')).listClients,
  },
  {
    name: 'keys list',
    summary: 'List the signing keys: kid, state, when created, published and activated.',
    options: {},
    needsSchema: true,
    load: async () => (await import('./commands/keys.js')).listKeys,
  },
]
