// The `tessera` runner: finds the command, parses its flags (node's util.parseArgs), opens the
// database the server uses (or, when a running server holds the embedded one, has that server
// run the command: channel.ts), runs, prints text or one JSON document, and turns every failure
// into exactly one line on stderr. Exit codes: 0 ok, 1 failed, 2 bad command line.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { systemClock } from '../lib/clock.js'
import { OperatorError } from '../lib/errors.js'
import { OAuthError } from '../oauth/errors.js'
import type { Connection, DatabaseInUse } from '../stores/database.js'
import { isDatabaseUnavailable } from '../stores/db-errors.js'
import type { Answer } from './channel.js'
import { type Command, type Context, type Flags, type OptionSpec, type Output, UsageError } from './command.js'
import { COMMANDS } from './commands.js'

const GLOBAL: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'Print one JSON document on stdout instead of text.' },
  help: { type: 'boolean', description: 'Show this help.' },
}

export interface Io {
  env: NodeJS.ProcessEnv
  cwd: string
  stdin(): Promise<string>
  stdout(text: string): void
  stderr(text: string): void
}

const EXIT = { ok: 0, failed: 1, usage: 2 } as const

export async function run(argv: string[], io: Io): Promise<number> {
  return commandLine(argv, io, async (command, flags) => {
    // Loaded now, not at start: --help and usage errors answer at once.
    const [{ loadConfig }, { DatabaseInUse, openDatabase }, { createStores }, { assertMigrated }, { auditTrail }, runner] = await Promise.all([
      import('../config/index.js'),
      import('../stores/database.js'),
      import('../stores/index.js'),
      import('./schema.js'),
      import('../audit/trail.js'),
      command.load(),
    ])
    const config = loadConfig(io.env, io.cwd)
    let db: Connection
    try {
      db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, poolSize: 2 })
    } catch (err) {
      // PGlite admits one process: a running server that holds ./data runs the command itself.
      if (err instanceof DatabaseInUse) return throughServer(argv, command, flags, io, config.pgliteDir, err)
      throw err
    }
    try {
      if (command.needsSchema) await assertMigrated(db)
      const stores = createStores(db)
      const out = await runner({ config, db, stores, clock: systemClock, cwd: io.cwd, audit: auditTrail(stores.audit, systemClock), stdin: io.stdin }, flags)
      // Printed before closing: a client's secret must reach the user even if closing fails.
      print(out, flags, io)
    } finally {
      await db.close().catch(() => {})
    }
    return EXIT.ok
  })
}

/** What a running server lends the commands it runs for the CLI: its own database, stores, audit trail, clock and configuration. */
export type ServerContext = Omit<Context, 'cwd' | 'stdin'>

/**
 * One command line run inside the server that holds the embedded database (channel-server.ts),
 * for a `tessera` beside it: parsed, run and printed exactly as `run` does, over the server's
 * context instead of a database of its own. The server migrated at start: no schema check.
 */
export async function runInServer(argv: string[], io: Omit<Io, 'env'>, server: ServerContext): Promise<number> {
  return commandLine(argv, io, async (command, flags) => {
    if (command.notBesideServer) throw new OperatorError(command.notBesideServer)
    const runner = await command.load()
    print(await runner({ ...server, cwd: io.cwd, stdin: io.stdin }, flags), flags, io)
    return EXIT.ok
  })
}

/** The command's name (`clients create`) when argv names one, for the server's log (never the flags: they may hold a password). */
export function commandName(argv: string[]): string | undefined {
  try {
    const found = resolve(argv)
    return found.kind === 'command' ? found.command.name : undefined
  } catch {
    return undefined
  }
}

/**
 * Finds the command, parses its flags, answers --help and --version, then hands over to `body`;
 * every failure becomes exactly one line on stderr and its exit code.
 */
async function commandLine(argv: string[], io: Pick<Io, 'stdout' | 'stderr'>, body: (command: Command, flags: Flags) => Promise<number>): Promise<number> {
  try {
    const found = resolve(argv)
    if (found.kind === 'help') {
      io.stdout(`${found.text}\n`)
      return EXIT.ok
    }
    if (found.kind === 'version') {
      io.stdout(`tessera ${version()}\n`)
      return EXIT.ok
    }
    const { command } = found
    const flags = parseFlags(command, found.args)
    if (flags.help) {
      io.stdout(`${commandHelp(command)}\n`)
      return EXIT.ok
    }
    return await body(command, flags)
  } catch (err) {
    io.stderr(`tessera: ${oneLine(describe(err))}\n`)
    return err instanceof UsageError ? EXIT.usage : EXIT.failed
  }
}

function print(out: Output, flags: Flags, io: Pick<Io, 'stdout'>): void {
  io.stdout(flags.json ? `${JSON.stringify(out.json, null, 2)}\n` : `${out.text}\n`)
}

/**
 * The command sent to the server holding the embedded database, over its socket (channel.ts),
 * with standard input when a flag given reads it; its output printed as it came, its exit code
 * returned. A holder that takes no commands (another `tessera`, a server still starting or from
 * before the channel) leaves the lock's own line: in use by process N.
 */
async function throughServer(argv: string[], command: Command, flags: Flags, io: Io, pgliteDir: string, inUse: DatabaseInUse): Promise<number> {
  const { ask, NoServer, socketPath } = await import('./channel.js')
  const readsStdin = Object.entries(command.options).some(([name, o]) => o.stdin && flags[name] === true)
  const stdin = readsStdin ? await io.stdin() : undefined
  let answer: Answer
  try {
    answer = await ask(socketPath(pgliteDir), { argv, cwd: io.cwd, ...(stdin === undefined ? {} : { stdin }) })
  } catch (err) {
    if (err instanceof NoServer) throw inUse
    throw new OperatorError(`${(err as Error).message} (it holds the embedded database in ${pgliteDir}: process ${inUse.pid})`)
  }
  io.stdout(answer.stdout)
  io.stderr(answer.stderr)
  return answer.code
}

type Found = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'command'; command: Command; args: string[] }

const GROUPS = [...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))]
const isHelp = (a: string | undefined) => a === '--help' || a === '-h'

/** The command named by the leading words of argv; flags follow it. */
function resolve(argv: string[]): Found {
  const [first, second] = argv
  if (first === undefined) throw new UsageError('no command given; run `tessera --help` to see the commands')
  if (isHelp(first)) return { kind: 'help', text: mainHelp() }
  if (first === '--version') return { kind: 'version' }
  if (first === 'help') return argv.length === 1 ? { kind: 'help', text: mainHelp() } : resolveHelp(argv.slice(1))
  const command = COMMANDS.find((c) => c.name === first) ?? COMMANDS.find((c) => c.name === `${first} ${second}`)
  if (command) return { kind: 'command', command, args: argv.slice(command.name.split(' ').length) }
  if (GROUPS.includes(first)) {
    if (isHelp(second)) return { kind: 'help', text: groupHelp(first) }
    const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.split(' ')[1])
    if (second === undefined || second.startsWith('-')) throw new UsageError(`"${first}" needs a subcommand: ${subs.join(', ')}`)
    throw new UsageError(`unknown command "${first} ${second}"; "${first}" has: ${subs.join(', ')}`)
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first.split('=')[0]}; the command comes first (see \`tessera --help\`)`)
  throw new UsageError(`unknown command "${first}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`)
}

function resolveHelp(words: string[]): Found {
  const name = words.join(' ')
  const command = COMMANDS.find((c) => c.name === name)
  if (command) return { kind: 'help', text: commandHelp(command) }
  if (words.length === 1 && GROUPS.includes(name)) return { kind: 'help', text: groupHelp(name) }
  throw new UsageError(`unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`)
}

function parseFlags(command: Command, args: string[]): Flags {
  const all = { ...command.options, ...GLOBAL }
  const options = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(name === 'help' ? { short: 'h' } : {}) }]),
  )
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; strict: true; allowPositionals: boolean; tokens: true }>>
  try {
    parsed = parseArgs({
      args: command.argument ? dashedArguments(args) : args,
      options,
      strict: true,
      allowPositionals: command.argument !== undefined,
      tokens: true,
    })
  } catch (err) {
    throw new UsageError(`${command.name}: ${parseError(err as NodeJS.ErrnoException)} (usage: tessera ${usage(command)})`)
  }
  const flags = parsed.values as Flags
  if (flags.help) return flags
  if (command.argument) {
    if (parsed.positionals.length !== 1) throw new UsageError(`${command.name}: needs exactly one ${command.argument.name} (usage: tessera ${usage(command)})`)
    flags._ = parsed.positionals[0]
  }
  const seen = new Set<string>()
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue
    if (seen.has(token.name) && !all[token.name]?.multiple) throw new UsageError(`${command.name}: --${token.name} was given more than once`)
    seen.add(token.name)
  }
  for (const [name, o] of Object.entries(command.options)) {
    const value = flags[name]
    const given = (n: string) => flags[n] !== undefined && !(Array.isArray(flags[n]) && flags[n].length === 0)
    if (o.or && given(name) && given(o.or)) throw new UsageError(`${command.name}: give --${name} or --${o.or}, not both`)
    if (o.required && !given(name) && !(o.or && given(o.or))) {
      throw new UsageError(`${command.name}: missing --${name}${o.or ? ` or --${o.or}` : ''} (usage: tessera ${usage(command)})`)
    }
    if (o.choices && typeof value === 'string' && !o.choices.includes(value)) {
      throw new UsageError(`${command.name}: --${name} must be one of: ${o.choices.join(', ')}`)
    }
  }
  return flags
}

/**
 * The only short option is -h, so any other word with a single leading "-" is the command's
 * argument: a kid is an RFC 7638 thumbprint in base64url, and one in 64 starts with "-"
 * (`keys retire -wQ3…`). Such words move after a "--", where parseArgs takes them as positional.
 * (The commands that take an argument have only boolean options, so no such word is a value.)
 */
function dashedArguments(args: string[]): string[] {
  const end = args.indexOf('--')
  const head = end === -1 ? args : args.slice(0, end)
  const isArgument = (word: string) => /^-[^-]/.test(word) && word !== '-h'
  const moved = head.filter(isArgument)
  if (moved.length === 0) return args
  return [...head.filter((word) => !isArgument(word)), '--', ...moved, ...(end === -1 ? [] : args.slice(end + 1))]
}

/** parseArgs' own messages span lines or echo values (a mistyped password); these do neither. */
function parseError(err: NodeJS.ErrnoException): string {
  const option = /'(-[^' =]*)/.exec(err.message)?.[1] ?? 'an option'
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option}`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return 'unexpected argument (this command takes only --flags; quote values that contain spaces)'
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(err.message)) return `${option} needs a value`
      if (/ambiguous/.test(err.message)) return `${option} needs a value; write ${option}=VALUE for a value starting with "-"`
      if (/does not take an argument/.test(err.message)) return `${option} takes no value`
      return `bad value for ${option}`
    default:
      return err.message.split('\n')[0] ?? 'bad arguments'
  }
}

function describe(err: unknown): string {
  // Validation from the services (email taken, bad grant…): the same text the API answers with.
  if (err instanceof OAuthError) return err.description
  if (err instanceof OperatorError) return err.message
  if (isDatabaseUnavailable(err)) return `the database is unavailable: ${(err as Error).message}`
  return `unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`
}

/** Exactly one line: driver and migration messages may span several. */
function oneLine(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim()
  return line.length > 500 ? `${line.slice(0, 499)}…` : line
}

function usage(c: Command): string {
  const flag = (name: string) => {
    const o = c.options[name]!
    return o.type === 'string' ? `--${name} ${o.value ?? 'VALUE'}` : `--${name}`
  }
  const standIns = new Set(Object.values(c.options).flatMap((o) => (o.or ? [o.or] : [])))
  const parts = Object.entries(c.options)
    .filter(([name]) => !standIns.has(name))
    .map(([name, o]) => {
      const f = o.or ? `(${flag(name)} | ${flag(o.or)})` : flag(name)
      if (o.required) return o.multiple ? `${f} [${f}…]` : f
      return o.multiple ? `[${f}…]` : `[${f}]`
    })
  return [c.name, ...(c.argument ? [c.argument.name] : []), ...parts, '[--json]'].join(' ')
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => [o.type === 'string' ? `--${name} ${o.value ?? 'VALUE'}` : `--${name}`, o.description])
  const width = Math.max(...rows.map(([f]) => f!.length)) + 2
  return rows.map(([f, d]) => `  ${f!.padEnd(width)}${d}`)
}

function commandHelp(c: Command): string {
  const arg = c.argument ? ['', 'Argument:', `  ${c.argument.name}  ${c.argument.description}`] : []
  return [`Usage: tessera ${usage(c)}`, '', c.summary, ...arg, '', 'Options:', ...optionLines({ ...c.options, ...GLOBAL })].join('\n')
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.name.startsWith(`${group} `))
  return [`Usage: tessera ${group} <command> [flags]`, '', 'Commands:', ...commands.map((c) => `  ${c.name.padEnd(16)}${c.summary}`)].join('\n')
}

function mainHelp(): string {
  return [
    'Usage: tessera <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(16)}${c.summary}`),
    '',
    'Every command takes --json (one JSON document on stdout) and --help.',
    'Configuration comes from the environment, as for the server: DATABASE_URL (Postgres), or the',
    'embedded database in PGLITE_DIR (./data), which only one process may open at a time: while a',
    'server holds it, that server runs the commands (over PGLITE_DIR/tessera.sock, its user only).',
    'Exit status: 0 on success, 1 when the command failed, 2 for a bad command line.',
  ].join('\n')
}

function version(): string {
  // ../../package.json from both src/cli and dist/cli.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}
