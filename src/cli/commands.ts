// Every `tessera` command: its words, flags and help (README, `tessera --help`). The code behind each one is
// imported only when it runs.
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
      password: {
        type: 'string',
        required: true,
        or: 'password-stdin',
        value: 'P',
        description: '8 to 256 characters; write --password=P if it starts with "-". Visible to `ps`: prefer --password-stdin.',
      },
      'password-stdin': { type: 'boolean', description: 'Read the password from standard input (one trailing newline is dropped), not the command line.' },
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
  {
    name: 'keys rotate',
    summary: 'Promote the next key to active (after KEY_PREPUBLISH), retire the active one, publish a new next.',
    options: {
      now: { type: 'boolean', description: 'Emergency (key compromise): skip the wait and drop the old key from the JWKS at once; its tokens stop verifying.' },
    },
    needsSchema: true,
    load: async () => (await import('./commands/keys.js')).rotateKeys,
  },
  {
    name: 'keys retire',
    summary: 'Stop publishing a retiring key now (or drop an unused next key).',
    argument: { name: 'KID', description: 'The kid, as `keys list` shows it.' },
    options: {},
    needsSchema: true,
    load: async () => (await import('./commands/keys.js')).retireKey,
  },
  {
    name: 'keys import',
    summary: 'Add an existing RSA private key (PEM, at least 2048 bits) as the next key.',
    argument: { name: 'FILE', description: 'A PEM file, e.g. keys/old-signing-key.pem.' },
    options: {},
    needsSchema: true,
    load: async () => (await import('./commands/keys.js')).importKey,
  },
]
