// Directories that hold secrets (the embedded database's, the key file's) are their owner's
// only: 0700, as Postgres requires of its data directory. A missing one is created so, an
// empty one is tightened (as initdb fixes the permissions of an existing empty directory), and
// one that holds anything but lets group or others in stops the start.
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { OperatorError } from './errors.js'

export class UnsafePermissions extends OperatorError {
  override name = 'UnsafePermissions'
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`

/** `dir` as a shell reads it: quoted only when it has to be. */
const shellWord = (dir: string) => (/^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replaceAll("'", `'\\''`)}'`)

/** The one-line refusal: names the directory, its mode and the command that fixes it. */
export function unsafeDirectory(what: string, dir: string, mode: number): string {
  return `${what} ${dir} has mode ${octal(mode)}, open to group or others; it must be its owner's only (0700), as Postgres requires of its data directory: run \`chmod 700 ${shellWord(dir)}\``
}

/** What a checkout or an image may leave in an otherwise empty directory (keys/ has both). */
const PLACEHOLDERS = new Set(['.gitkeep', 'README.md'])

/** Empty, or holding only placeholders: nothing that another user may have seen matters yet. */
const isEmpty = (dir: string) => readdirSync(dir).every((name) => PLACEHOLDERS.has(name))

/**
 * Makes sure `dir` is a directory only its owner may enter (0700): created so when missing
 * (with any missing parent), tightened when it is empty (a placeholder aside), refused
 * otherwise: its contents were open to others, and someone must look at that. `what` names
 * it in the refusal (`the embedded database's directory`); `fail` makes the error, so that
 * each caller throws its own kind.
 */
export function ensurePrivateDirectory(dir: string, what: string, fail: (message: string) => OperatorError = (m) => new UnsafePermissions(m)): void {
  let mode: number
  try {
    const stat = statSync(dir)
    if (!stat.isDirectory()) throw fail(`${what} ${dir} is not a directory`)
    mode = stat.mode & 0o777
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      // mkdir's mode is filtered by the umask, which may take more than group and others away.
      chmodSync(dir, 0o700)
    } catch (e) {
      throw fail(`cannot create ${what} ${dir}: ${(e as Error).message}`)
    }
    return
  }
  if ((mode & 0o077) === 0) return
  if (isEmpty(dir)) {
    try {
      chmodSync(dir, 0o700)
      return
    } catch {
      // Not ours to change (another owner): say what to do instead.
    }
  }
  throw fail(unsafeDirectory(what, dir, mode))
}

/**
 * Takes group's and others' bits off everything under `dir` (files keep their owner's bits,
 * directories become 0700). For what a library wrote with modes of its own: PGlite's
 * embedded Postgres sets 0666 on the files it unpacks whatever the umask.
 */
export function tightenTree(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue
    const path = join(entry.parentPath, entry.name)
    try {
      const mode = lstatSync(path).mode & 0o777
      if ((mode & 0o077) !== 0) chmodSync(path, entry.isDirectory() ? 0o700 : mode & 0o700)
    } catch {
      // Gone meanwhile (a WAL segment recycled): nothing to tighten.
    }
  }
}
