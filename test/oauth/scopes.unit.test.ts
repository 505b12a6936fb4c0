// Scope strings (RFC 6749 §3.3): scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated
// by spaces; grantScope narrows to what the client (or the family) allows.
import t from 'tap'
import { grantScope, parseScope } from '../../src/oauth/scopes.js'
import { rejectsOAuth } from '../helpers/unit.js'

const MALFORMED = { error: 'invalid_request', description: 'The scope parameter is malformed.', status: 400 }

t.test('§3.3 scope-token: every printable ASCII character but " and \\, nothing else', async (t) => {
  const allowed: string[] = []
  const refused: string[] = []
  for (let c = 0; c <= 0x7f; c++) {
    if (c === 0x20) continue // the separator, tested below
    const ch = String.fromCharCode(c)
    try {
      const parsed = parseScope(`a${ch}b`)
      if (parsed?.length === 1 && parsed[0] === `a${ch}b`) allowed.push(ch)
      else t.fail(`0x${c.toString(16)} parsed as ${JSON.stringify(parsed)}`)
    } catch {
      refused.push(ch)
    }
  }
  const expected: string[] = []
  for (let c = 0x21; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) expected.push(String.fromCharCode(c))
  t.same(allowed, expected, '%x21 / %x23-5B / %x5D-7E')
  t.equal(allowed.length, 92)
  t.ok(refused.includes('"') && refused.includes('\\'), '" and \\ are refused')
  t.ok(refused.includes('\t') && refused.includes('\u007f') && refused.includes('\u0000'), 'tab, DEL and NUL are refused')
})

t.test('malformed scope strings are invalid_request', async (t) => {
  const cases: [string, string][] = [
    ['a quote', 'read "write"'],
    ['a backslash', 'read\\write'],
    ['a tab as separator', 'read\twrite'],
    ['a newline', 'read\nwrite'],
    ['non-ASCII', 'lecture écriture'],
    ['a lone quote token', '"'],
  ]
  for (const [what, value] of cases) await rejectsOAuth(t, () => parseScope(value), MALFORMED, what)
})

t.test('spaces separate; duplicates collapse in first-seen order', async (t) => {
  t.equal(parseScope(undefined), undefined, 'no scope parameter: undefined (the default applies)')
  t.same(parseScope('read'), ['read'])
  t.same(parseScope('read write'), ['read', 'write'])
  t.same(parseScope('  read   write '), ['read', 'write'], 'extra spaces are tolerated')
  t.same(parseScope('write read write read'), ['write', 'read'])
  t.same(parseScope('urn:example:scope!#$%&()*+,-./:;<=>?@[]^_`{|}~'), ['urn:example:scope!#$%&()*+,-./:;<=>?@[]^_`{|}~'])
  t.same(parseScope('Read read'), ['Read', 'read'], 'scope tokens are case-sensitive')
  await rejectsOAuth(t, () => parseScope('   '), MALFORMED, 'only spaces: no scope-token at all (RFC 6749 §3.3)')
})

t.test('grantScope', async (t) => {
  const allowed = ['read', 'write', 'profile'] as const
  const granted = grantScope(undefined, allowed)
  t.same(granted, ['read', 'write', 'profile'], 'no scope asked: everything allowed')
  granted.push('admin')
  t.same(allowed, ['read', 'write', 'profile'], 'the default is a copy: the caller cannot grow the client')
  t.same(grantScope(['write'], allowed), ['write'], 'narrower is fine')
  t.same(grantScope(['profile', 'read'], allowed), ['profile', 'read'], 'in the order asked')
  t.same(grantScope([], allowed), [], 'an empty list (parseScope never gives one): nothing granted')
  t.same(grantScope(undefined, []), [], 'a client with no scopes')
  await rejectsOAuth(t, () => grantScope(['read', 'admin', 'delete'], allowed), {
    error: 'invalid_scope',
    description: 'Scope not allowed: admin delete.',
    status: 400,
  })
  await rejectsOAuth(t, () => grantScope(['read'], []), { error: 'invalid_scope', description: 'Scope not allowed: read.' })
})
