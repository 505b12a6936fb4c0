// The channel between `tessera` and the running server that holds the embedded database: a Unix
// socket in the database's directory (0700, lib/private-dir.ts), itself 0600, so that only the OS
// user who runs the server can open it. One JSON line each way per connection: the command line
// (`Request`), then what the command printed and its exit code (`Answer`). The server's side is
// channel-server.ts; this is the wire format and the CLI's side.

import { connect } from 'node:net'
import { isAbsolute, join } from 'node:path'

/** The socket, next to the pid lock (`tessera.pid`) in the embedded database's directory. */
export const socketPath = (pgliteDir: string): string => join(pgliteDir, 'tessera.sock')

/** The longest request line a server reads: a command line and a password are far shorter. */
export const MAX_REQUEST_BYTES = 1024 * 1024

export interface Request {
  /** The words after `tessera`, as given. */
  argv: string[]
  /** The CLI's working directory: relative paths on the command line (`keys import FILE`) are its. */
  cwd: string
  /** All of standard input, sent only when a flag given says the command reads it (`--password-stdin`). */
  stdin?: string
}

export interface Answer {
  code: number
  stdout: string
  stderr: string
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A request line, or what is wrong with it (one line, for the answer). */
export function parseRequest(line: string): Request | { error: string } {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return { error: 'the request is not JSON (one line: {"argv":[…],"cwd":"/…"})' }
  }
  if (!isObject(v)) return { error: 'the request is not a JSON object' }
  const { argv, cwd, stdin } = v
  if (!Array.isArray(argv) || argv.length > 1000 || !argv.every((a) => typeof a === 'string')) return { error: 'the request needs argv, an array of strings' }
  if (typeof cwd !== 'string' || !isAbsolute(cwd)) return { error: 'the request needs cwd, an absolute path' }
  if (stdin !== undefined && typeof stdin !== 'string') return { error: 'the request has a stdin that is not a string' }
  return { argv, cwd, ...(stdin === undefined ? {} : { stdin }) }
}

function parseAnswer(line: string): Answer | undefined {
  try {
    const v: unknown = JSON.parse(line)
    if (
      isObject(v) &&
      Number.isInteger(v.code) &&
      (v.code as number) >= 0 &&
      (v.code as number) <= 255 &&
      typeof v.stdout === 'string' &&
      typeof v.stderr === 'string'
    ) {
      return { code: v.code as number, stdout: v.stdout, stderr: v.stderr }
    }
  } catch {
    // Not an answer: said below.
  }
  return undefined
}

/** Nothing listens at the socket: there is none, or a crashed server's is left over. */
export class NoServer extends Error {
  override name = 'NoServer'
}

/**
 * Sends one command to the server listening at `path` and resolves with its answer. Rejects with
 * NoServer when nothing listens there, with another error when the server closed without an
 * answer or gave one that is not understood.
 */
export function ask(path: string, request: Request): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    let connected = false
    const chunks: Buffer[] = []
    socket.on('connect', () => {
      connected = true
      // Not end(): the server answers on this connection, then closes it.
      socket.write(`${JSON.stringify(request)}\n`)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) reject(new NoServer(err.message))
      else reject(new Error(`the connection to the running server at ${path} failed: ${err.code ?? err.message}`))
    })
    socket.on('close', (hadError) => {
      if (hadError) return
      const text = Buffer.concat(chunks).toString('utf8')
      const answer = parseAnswer(text.split('\n')[0] ?? '')
      if (answer) resolve(answer)
      else reject(new Error(`the running server at ${path} closed the connection without an answer`))
    })
  })
}
