// `tessera keys rotate|retire|import` as an operator runs them, on both database legs: in this
// process through run(argv, io) (test/helpers/cli.ts), judged by exit code, stdout, stderr and the
// ring the next `keys list` shows. test/cli/cli.test.ts covers what only the spawned binary shows.
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/stores/database.js'
import { build, testConfig } from '../helpers/build.js'
import { fails, json, ok, scratch, tessera } from '../helpers/cli.js'
import { createPostgresDatabase, LEGS } from '../helpers/db.js'

t.setTimeout(180_000)
// The legs run side by side (each its own directory or database, and its own io).
t.jobs = 2

for (const leg of LEGS) {
  t.test(leg, async (t) => {
    const cwd = scratch(t)
    const kek = testConfig().keyEncryptionKey!.toString('hex')
    const env: Record<string, string> = { KEY_ENCRYPTION_KEY: kek, KEY_PREPUBLISH: '5m', JWKS_MAX_AGE: '60' }
    if (leg === 'postgres') env.DATABASE_URL = await createPostgresDatabase(t)
    else env.PGLITE_DIR = join(cwd, 'data')
    // The server's first start makes the key pair; then it lets go of the database.
    const config = testConfig(env)
    {
      const db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir })
      const { app } = await build({ teardown: () => {} }, leg, { db, config })
      await app.close()
      await db.close()
    }
    const where = { cwd, env }
    const keys = async () => json<{ kid: string; state: string }[]>(await tessera(where, 'keys', 'list', '--json'))
    const kidIn = async (state: string) => (await keys()).find((k) => k.state === state)!.kid
    const active = () => kidIn('active')
    const next = () => kidIn('next')

    const early = await tessera(where, 'keys', 'rotate')
    fails(
      t,
      early,
      1,
      /^tessera: The next key \S+ has been published for \d+ s; .*KEY_PREPUBLISH \(300 s\)\. Rotate in \d+ s, or use --now in an emergency\.\n$/,
      'a young next key',
    )

    const oldActive = await active()
    const oldNext = await next()
    const now = await tessera(where, 'keys', 'rotate', '--now', '--json')
    ok(t, now, 'rotate --now')
    t.match(json(now), { active: oldNext, previous: oldActive, emergency: true })
    t.notOk(
      (await keys()).some((k) => k.kid === oldActive),
      'the compromised key is gone',
    )

    fails(t, await tessera(where, 'keys', 'retire', 'no-such-kid'), 1, 'No signing key with kid no-such-kid.', 'unknown kid')
    // One kid in 64 starts with "-" (base64url): it is the argument, not an unknown option.
    fails(t, await tessera(where, 'keys', 'retire', '-wNo-such-kid'), 1, 'No signing key with kid -wNo-such-kid.', 'a kid starting with "-"')
    fails(t, await tessera(where, 'keys', 'retire', '--json', '--', '-wNo-such-kid'), 1, 'No signing key with kid -wNo-such-kid.', 'a kid after "--"')
    fails(
      t,
      await tessera(where, 'keys', 'retire', '-wNo-such-kid', '--bogus'),
      2,
      /^tessera: keys retire: unknown option --bogus /,
      'a long option still has to exist',
    )
    fails(t, await tessera(where, 'keys', 'retire', await active()), 1, /the active key: retiring it would leave nothing to sign with/, 'the active key')
    fails(t, await tessera(where, 'keys', 'retire'), 2, /needs exactly one KID/, 'no kid')

    const pem = join(cwd, 'old.pem')
    writeFileSync(pem, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }))
    const imported = await tessera(where, 'keys', 'import', pem, '--json')
    ok(t, imported, 'import')
    t.equal(await next(), json<{ kid: string }>(imported).kid, 'the imported key is the next key')
    const small = join(cwd, 'small.pem')
    writeFileSync(small, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }))
    fails(t, await tessera(where, 'keys', 'import', small), 1, 'The RSA key has 1024 bits; at least 2048 are needed.', '1024-bit key')
    fails(t, await tessera(where, 'keys', 'import', join(cwd, 'missing.pem')), 1, /cannot read .*missing\.pem: ENOENT/, 'missing file')

    const wrong = await tessera({ cwd, env: { ...env, KEY_ENCRYPTION_KEY: 'ab'.repeat(32) } }, 'keys', 'rotate', '--now')
    fails(t, wrong, 1, /cannot decrypt signing key .*KEY_ENCRYPTION_KEY/, 'a wrong key-encryption key')
    t.equal((await keys()).length, 2, 'and nothing was added')
  })
}
