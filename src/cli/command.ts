// What a `tessera` command is: its words and flags (cheap, for parsing and --help), and a
// runner over the open database, loaded only when the command runs.
import type { AuditTrail } from '../audit/trail.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { OperatorError } from '../lib/errors.js'
import type { Connection } from '../stores/database.js'
import type { Stores } from '../stores/index.js'

export interface OptionSpec {
  type: 'string' | 'boolean'
  /** May be given several times (values collected in order). */
  multiple?: boolean
  required?: boolean
  /** Another option that may stand in for this required one; never both (`--password` or `--password-stdin`). */
  or?: string
  /** The only values accepted. */
  choices?: readonly string[]
  /** Placeholder in the usage line (`--email E`). */
  value?: string
  /** Given, the command reads all of standard input (`--password-stdin`): sent along to a running server. */
  stdin?: boolean
  description: string
}

export type Flags = Record<string, string | boolean | string[] | undefined>

export interface Context {
  config: Config
  db: Connection
  stores: Stores
  clock: Clock
  /** The working directory relative paths on the command line are read from. */
  cwd: string
  /** The audit trail; a failed write fails the command. */
  audit: AuditTrail
  /** All of standard input, for secrets that must not be on the command line. */
  stdin(): Promise<string>
}

/** What a command printed: `json` under --json (one document), `text` otherwise. */
export interface Output {
  json: unknown
  text: string
}

export type Runner = (ctx: Context, flags: Flags) => Promise<Output>

export interface Command {
  /** The words after `tessera`: `users create`. */
  name: string
  summary: string
  options: Record<string, OptionSpec>
  /** One required positional argument (`keys retire KID`), handed over as flags._. */
  argument?: { name: string; description: string }
  /** False only for `migrate`, which brings the schema up to date itself. */
  needsSchema: boolean
  /**
   * Why a running server does not run this command for the CLI (src/cli/channel-server.ts), when
   * it does not: the one line the user gets instead. Unset: it runs there like anywhere else.
   */
  notBesideServer?: string
  /** Imported on use: `--help` and a mistyped flag answer without loading Prisma or argon2. */
  load(): Promise<Runner>
}

/** A bad command line: unknown command or flag, a flag missing. Exit code 2. */
export class UsageError extends OperatorError {
  override name = 'UsageError'
}

export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name]
  return typeof v === 'string' ? v : undefined
}

export const list = (flags: Flags, name: string): string[] => {
  const v = flags[name]
  return Array.isArray(v) ? v : []
}

export const bool = (flags: Flags, name: string): boolean => flags[name] === true
