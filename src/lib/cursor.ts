// Opaque cursors for keyset pagination: the sort key of the last item of a page, base64url JSON.
// A cursor that does not decode to the expected shape is a 400, never a full dump or a 500.
import { InvalidRequest } from '../oauth/errors.js'

export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor<const K extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: K,
): { [I in keyof K]: K[I] extends 'number' ? number : string } | undefined {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(value) || value.length !== shape.length || !value.every((v, i) => typeof v === shape[i])) return undefined
  return value as never
}

/** A list page as the admin API answers it: fetch `limit + 1` rows, hand over the first `limit`. */
export function page<T>(rows: T[], limit: number, keyOf: (last: T) => (string | number)[]): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null }
}

/** The (createdAt, id) of the last item, for lists in creation order; tagged with the list it belongs to. */
export function creationCursor(list: string, cursor: string, validId: (id: string) => boolean = () => true): { createdAt: Date; id: string } {
  const key = decodeCursor(cursor, ['string', 'string', 'string'])
  const createdAt = key ? new Date(key[1]) : undefined
  if (!key || key[0] !== list || !createdAt || Number.isNaN(createdAt.getTime()) || !validId(key[2]))
    throw new InvalidRequest('The cursor is not one this API gave.')
  return { createdAt, id: key[2] }
}
