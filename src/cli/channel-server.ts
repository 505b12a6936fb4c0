// The server's side of the CLI's channel (channel.ts): while this process holds the embedded
// database, which admits no other process, `tessera` beside it sends its command line here and
// this process runs it (run.ts's runInServer, the same commands over the server's own stores)
// and answers with what it printed. Whatever arrives, the server goes on serving: a line that is
// not a request, one too long, a client that goes away are an error line or a closed connection.
import { chmodSync, lstatSync, statSync, unlinkSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { auditTrail } from '../audit/trail.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { OperatorError } from '../lib/errors.js'
import type { Connection } from '../stores/database.js'
import type { Stores } from '../stores/index.js'
import { type Answer, MAX_REQUEST_BYTES, parseRequest, type Request, socketPath } from './channel.js'
import { commandName, runInServer } from './run.js'

/** What the server lends: its configuration, its database and repositories, its clock, its log. */
export interface CommandHost {
  config: Config
  connection: Connection
  stores: Stores
  clock: Clock
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

export interface CommandChannel {
  readonly path: string
  /** Stops taking connections, lets commands under way answer, removes the socket. */
  close(): Promise<void>
}

/** A connection that has not sent its request line within this is closed (and one done answering, lingering). */
const IDLE_MS = 10_000
/** Connections at once; Node closes any beyond them as soon as they come. */
const MAX_CONNECTIONS = 16

const failure = (message: string): Answer => ({ code: 1, stdout: '', stderr: `tessera: ${message}\n` })

/**
 * Listens on `tessera.sock` in the embedded database's directory, mode 0600 in a 0700 directory:
 * only this OS user (and root) can connect. Call it once the database is open, that is once the
 * pid lock is this process's: a socket left there is then a crashed server's, and is replaced.
 * Resolves with the channel, or undefined (after a warning in the log) when it cannot listen: the
 * server then runs without it, and the CLI says the database is in use, as before.
 */
export async function listenForCommands(host: CommandHost): Promise<CommandChannel | undefined> {
  const path = socketPath(host.config.pgliteDir)
  const without = (why: string) => {
    host.log.warn({ socket: path }, `no CLI channel (${why}): \`tessera\` commands work only while the server is stopped`)
    return undefined
  }
  // The directory is what keeps other users out while the socket has its umask's mode (between
  // listen and chmod), and what Postgres relies on for its own socket directory too.
  const mode = statSync(dirname(path)).mode & 0o777
  if ((mode & 0o077) !== 0) return without(`${dirname(path)} has mode 0${mode.toString(8)}, open to group or others`)
  try {
    if (!lstatSync(path).isSocket()) return without(`${path} is there and is not a socket`)
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return without((err as Error).message)
  }

  // Commands the CLI runs fail when their audit row cannot be written, as they do in the CLI's own process.
  const context = { config: host.config, db: host.connection, stores: host.stores, clock: host.clock, audit: auditTrail(host.stores.audit, host.clock) }
  /** Commands under way, each until its answer is written: closing waits for them. */
  const running = new Set<Promise<void>>()
  const open = new Set<Socket>()
  const busy = new WeakSet<Socket>()

  const runOne = async (request: Request): Promise<Answer> => {
    let stdout = ''
    let stderr = ''
    const code = await runInServer(
      request.argv,
      {
        cwd: request.cwd,
        stdin: async () => {
          if (request.stdin === undefined) throw new OperatorError('this command reads standard input, and none came with the request')
          return request.stdin
        },
        stdout: (text) => {
          stdout += text
        },
        stderr: (text) => {
          stderr += text
        },
      },
      context,
    )
    // The command's name only: its flags may hold a password.
    host.log.info({ command: commandName(request.argv) ?? null, code }, 'ran a command for the CLI')
    return { code, stdout, stderr }
  }

  const serve = (socket: Socket) => {
    open.add(socket)
    // A client that went away before its answer: nothing to tell it, nothing to stop.
    socket.on('error', () => {})
    socket.on('close', () => open.delete(socket))
    socket.setTimeout(IDLE_MS, () => socket.destroy())
    const chunks: Buffer[] = []
    let size = 0
    /** Resolves once the answer is written (or the client is gone). */
    const answer = (a: Answer) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve()
        socket.once('close', () => resolve())
        socket.end(`${JSON.stringify(a)}\n`, () => resolve())
        // Whatever else it sends is read and dropped until it closes, or is closed.
        socket.setTimeout(IDLE_MS, () => socket.destroy())
      })
    const onData = (chunk: Buffer) => {
      const end = chunk.indexOf(0x0a)
      if (size + (end === -1 ? chunk.length : end) > MAX_REQUEST_BYTES) {
        done()
        return void answer(failure(`the request is longer than ${MAX_REQUEST_BYTES} bytes`))
      }
      if (end === -1) {
        chunks.push(chunk)
        size += chunk.length
        return
      }
      chunks.push(chunk.subarray(0, end))
      done()
      // One command per connection: anything after the first line is not read as another.
      const request = parseRequest(Buffer.concat(chunks).toString('utf8'))
      if ('error' in request) return void answer(failure(request.error))
      socket.setTimeout(0)
      busy.add(socket)
      const job = runOne(request)
        .catch((err: unknown) => failure(`unexpected error: ${(err as Error).message}`))
        .then(answer)
      running.add(job)
      void job.finally(() => running.delete(job))
    }
    const done = () => {
      socket.off('data', onData)
      socket.on('data', () => {})
    }
    socket.on('data', onData)
  }

  const server = createServer(serve)
  server.maxConnections = MAX_CONNECTIONS
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    })
    chmodSync(path, 0o600)
  } catch (err) {
    server.close()
    removeSocket(path)
    return without((err as Error).message)
  }
  // After listening, an error is one connection's (accept failed): the channel goes on.
  server.on('error', (err) => host.log.error({ err }, 'the CLI channel'))
  host.log.info({ socket: path }, 'the CLI runs its commands through this server while it holds the embedded database')

  let closed: Promise<void> | undefined
  return {
    path,
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const socket of open) if (!busy.has(socket)) socket.destroy()
        await Promise.allSettled([...running])
        for (const socket of open) socket.destroy()
        await stopped
        removeSocket(path)
      })()),
  }
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Gone already (Node removes it on close): nothing to do.
  }
}
