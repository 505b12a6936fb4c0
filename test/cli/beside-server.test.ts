// `tessera` beside a running server on the embedded database, as a newcomer meets it: `npm start`
// holds ./data (PGlite admits one process), and the README's next commands still work, because the
// server runs them for the CLI over data/tessera.sock (src/cli/channel.ts, channel-server.ts).
// Everything here is a real process: the server (test/helpers/process.ts), each `tessera` (the
// binary through tsx), a process of another OS user where one can be started; judged by exit codes,
// output, file modes and what the server then answers over HTTP.
import { generateKeyPairSync } from 'node:crypto'
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { fails, json, ok, type Run, spawnTessera, tesseraBinary, type Where } from '../helpers/cli.js'
import { readyJwks, type Server, scratch, serverCommand, spawnProgram, startServer } from '../helpers/process.js'
import { until } from '../helpers/wait.js'

t.comment(`server under test: ${serverCommand().what}`)
// Three server starts and about twenty spawned CLI runs, each a fresh Node with tsx.
t.setTimeout(420_000)

const box = scratch(t, 'tessera-beside-')
// The scratch directory itself open to others (mkdtemp makes it 0700), so that what keeps another
// user out below is data/'s own 0700 and the socket's 0600, not the test's temp directory.
chmodSync(box, 0o755)
const dataDir = join(box, 'data')
const sock = join(dataDir, 'tessera.sock')
const env = { PGLITE_DIR: dataDir, KEY_FILE: join(box, 'keys', 'encryption.key'), METRICS_PORT: '0' }
const where: Where = { cwd: box, env: { PGLITE_DIR: dataDir, KEY_FILE: env.KEY_FILE } }

const cli = (...args: string[]) => tesseraBinary(t, where, ...args)

/** The real binary with `input` on a real pipe (--password-stdin). */
async function cliWithInput(input: string, ...args: string[]): Promise<Run> {
  const child = spawnTessera(t, where, args, { stdin: 'pipe' })
  child.stdin!.end(input)
  const { code } = await child.exit(120_000)
  return { code, stdout: child.stdout(), stderr: child.stderr() }
}

const lockHolder = () => {
  try {
    return Number(readFileSync(join(dataDir, 'tessera.pid'), 'utf8').split(' ')[0])
  } catch {
    return undefined
  }
}

/** Raw bytes to the socket, from this process: everything the server sent back before it closed. */
function raw(send: (socket: ReturnType<typeof connect>) => void): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(sock)
    let text = ''
    socket.setEncoding('utf8').on('data', (d: string) => {
      text += d
    })
    // The server may close while this side still writes (EPIPE): what it answered is what counts.
    socket.on('error', () => {})
    socket.on('close', () => resolve(text))
    socket.on('connect', () => send(socket))
  })
}

const answerOf = (text: string) => JSON.parse(text.split('\n')[0]!) as { code: number; stdout: string; stderr: string }

async function token(server: Server, id: string, secret: string, form: Record<string, string>) {
  const res = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

interface ClientJson {
  client_id: string
  client_secret: string
}

t.test('beside a running server on the embedded database', async (t) => {
  let server = await startServer(t, box, env)
  const jwks = await readyJwks(server)
  t.equal(lockHolder(), server.pid, 'the server holds the embedded database')

  await t.test("README's commands succeed, and the client works at /token", async (t) => {
    const created = await cli('clients', 'create', '--name', 'My service', '--grant', 'client_credentials', '--scope', 'read', '--json')
    ok(t, created, 'clients create')
    const client = json<ClientJson>(created)
    t.match(client, { client_id: /^[\w-]{16,}$/, client_secret: /^[\w-]{32,}$/ }, 'its id and, once, its secret')
    const cc = await token(server, client.client_id, client.client_secret, { grant_type: 'client_credentials', scope: 'read' })
    t.equal(cc.status, 200, `client_credentials at the running server: 200${cc.status === 200 ? '' : ` (${JSON.stringify(cc.body)})`}`)
    t.match(cc.body, { token_type: 'Bearer', scope: 'read', access_token: /^eyJ/ })

    const password = 'piped to the server, newline dropped'
    const user = await cliWithInput(`${password}\n`, 'users', 'create', '--email', 'admin@example.com', '--password-stdin', '--role', 'admin', '--json')
    ok(t, user, 'users create --password-stdin')
    t.notOk(user.stdout.includes(password), 'the password is not printed')
    t.match(json(user), { email: 'admin@example.com', role: 'admin' })

    // The piped password is the account's: a password-grant client signs in with it.
    const app = json<ClientJson>(await cli('clients', 'create', '--name', 'First party', '--grant', 'password', '--scope', 'read', '--json'))
    const signin = await token(server, app.client_id, app.client_secret, { grant_type: 'password', username: 'admin@example.com', password, scope: 'read' })
    t.equal(signin.status, 200, `a sign-in with the piped password: 200${signin.status === 200 ? '' : ` (${JSON.stringify(signin.body)})`}`)

    const users = await cli('users', 'list')
    ok(t, users, 'users list')
    t.match(users.stdout, /admin@example\.com\s+-\s+admin\s+active/, 'lists the account')

    const keys = await cli('keys', 'list', '--json')
    ok(t, keys, 'keys list')
    t.same(
      json<{ kid: string }[]>(keys)
        .map((k) => k.kid)
        .sort(),
      jwks.keys.map((k) => k.kid).sort(),
      'the keys the server publishes',
    )

    const audit = await cli('audit', 'list', '--json')
    ok(t, audit, 'audit list')
    const events = json<{ type: string; client_id: string | null; details: { via?: string } | null }[]>(audit)
    t.match(
      events.find((e) => e.type === 'client.created' && e.client_id === client.client_id),
      { details: { via: 'cli' } },
      'the client.created row says via: cli',
    )
    t.match(
      events.find((e) => e.type === 'user.created'),
      { details: { via: 'cli', role: 'admin' } },
      'the user.created row says via: cli',
    )
    t.equal(lockHolder(), server.pid, 'the server held the database throughout')
  })

  await t.test('a usage error answers at once; migrate is refused with one clear line', async (t) => {
    fails(t, await cli('clients', 'create', '--name', 'x'), 2, /^tessera: clients create: missing --grant /, 'usage error')
    fails(t, await cli('migrate'), 1, /^tessera: migrate: the running server applied the migrations when it started; .*stop it/, 'migrate')
    fails(t, await cli('clients', 'delete', 'no-such-client'), 1, /^tessera: .+\n$/, "a command's own failure comes back as its one line")
  })

  await t.test("keys import reads its file from the CLI's working directory; the server publishes the key", async (t) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    mkdirSync(join(box, 'keys'), { recursive: true })
    writeFileSync(join(box, 'keys', 'old.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    const imported = await cli('keys', 'import', 'keys/old.pem', '--json')
    ok(t, imported, 'keys import keys/old.pem')
    const { kid } = json<{ kid: string; state: string }>(imported)
    const published = await until('the server publishes the imported key', 30_000, async () => {
      const keys = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
      return keys.keys.some((k) => k.kid === kid)
    })
    t.ok(published, 'in its JWKS')
  })

  await t.test('the socket is 0600 in a 0700 directory, and another user cannot connect', async (t) => {
    t.ok(lstatSync(sock).isSocket(), 'data/tessera.sock is a socket')
    t.equal(lstatSync(sock).mode & 0o777, 0o600, 'mode 0600')
    t.equal(statSync(dataDir).mode & 0o777, 0o700, 'in a 0700 directory')
    t.equal(lstatSync(sock).uid, process.getuid!(), "owned by the server's user")
    if (process.getuid!() !== 0) return t.comment('not root: no process of another user can be started here; the modes above are what keeps one out')
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync)
    if (!setpriv) return t.comment('no setpriv: the connection from another user is not tried; the modes above are what keeps one out')
    /** `nobody` connecting to the socket: the error code it gets, or "connected". */
    const asNobody = async () => {
      const script = `require('net').connect(${JSON.stringify(sock)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`
      const child = spawnProgram(t, setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], {
        name: 'nobody connects',
        cwd: '/',
      })
      await child.exit(30_000)
      return child.stdout().trim()
    }
    t.equal(await asNobody(), 'EACCES', 'nobody is refused (data/ is 0700)')
    // The socket's own mode too: data/ opened to be entered (not listed), the 0600 alone refuses.
    chmodSync(dataDir, 0o711)
    try {
      t.equal(await asNobody(), 'EACCES', 'nobody is refused by the socket itself (0600)')
    } finally {
      chmodSync(dataDir, 0o700)
    }
  })

  await t.test('whatever arrives on the socket, the server answers an error line and goes on serving', async (t) => {
    const garbled = answerOf(await raw((s) => s.write('this is not json\n')))
    t.equal(garbled.code, 1, 'a garbled line: exit code 1')
    t.match(garbled.stderr, /^tessera: the request is not JSON[^\n]*\n$/, 'and one line saying so')
    const shapeless = answerOf(await raw((s) => s.write('{"argv":"clients list","cwd":"/"}\n')))
    t.match(shapeless, { code: 1, stderr: /^tessera: the request needs argv, an array of strings\n$/ }, 'JSON that is no request')
    const huge = answerOf(await raw((s) => s.write(Buffer.alloc(2 * 1024 * 1024, 'a'))))
    t.match(huge, { code: 1, stderr: /^tessera: the request is longer than 1048576 bytes\n$/ }, 'an oversized line (2 MB, no newline)')
    const unknown = answerOf(await raw((s) => s.write(`${JSON.stringify({ argv: ['nonsense'], cwd: '/' })}\n`)))
    t.match(unknown, { code: 2, stderr: /^tessera: unknown command "nonsense"/ }, 'an unknown command: its usage line')
    // Clients that go away: half a line, and a whole command whose answer no one reads.
    await raw((s) => s.end('{"argv":["clients",'))
    await raw((s) => s.destroy())
    await raw((s) => {
      s.write(`${JSON.stringify({ argv: ['users', 'list'], cwd: '/' })}\n`)
      s.destroy()
    })
    t.ok(server.running(), 'the server is still running')
    t.equal((await fetch(`${server.url}/healthz`)).status, 200, '/healthz answers')
    const after = await cli('clients', 'list', '--json')
    ok(t, after, 'the next CLI command')
    t.equal(json<unknown[]>(after).length, 2, 'sees both clients')
    t.equal(server.stderr(), '', 'nothing on the server stderr')
  })

  await t.test('stopped, the server removes its socket; the CLI opens the database itself again', async (t) => {
    t.same(await server.stop(), { code: 0, signal: null }, 'SIGTERM exits 0')
    t.notOk(existsSync(sock), 'the socket is gone')
    t.notOk(existsSync(join(dataDir, 'tessera.pid')), 'so is the lock')
    const list = await cli('clients', 'list', '--json')
    ok(t, list, 'clients list, on its own')
    t.equal(json<unknown[]>(list).length, 2, 'the same two clients')
    ok(t, await cli('migrate'), 'migrate works again while the server is stopped')
  })

  await t.test("a crashed server's socket confuses neither the CLI nor the next server", async (t) => {
    server = await startServer(t, box, env, 'server (2)')
    await readyJwks(server)
    await until('the second server listens on its socket', 30_000, () => existsSync(sock))
    server.signal('SIGKILL')
    await server.closed
    t.ok(lstatSync(sock).isSocket(), 'the killed server left its socket')
    t.equal(lockHolder(), server.pid, 'and its lock, naming a process that is gone')
    const list = await cli('clients', 'list')
    ok(t, list, 'the CLI opens the database itself (nothing listens on the stale socket)')
    t.match(list.stdout, /My service/)

    const third = await startServer(t, box, env, 'server (3)')
    await readyJwks(third)
    await until('the third server listens on its socket', 30_000, () => existsSync(sock) && lockHolder() === third.pid)
    t.equal(lstatSync(sock).mode & 0o777, 0o600, 'the replaced socket is 0600 too')
    const users = await cli('users', 'list', '--json')
    ok(t, users, 'the CLI goes through the new server')
    t.equal(lockHolder(), third.pid, 'which holds the database')
    t.same(await third.stop(), { code: 0, signal: null }, 'and stops cleanly')
  })
})
