// The error body every route answers with (docs/errors.md#error-body), declared on every
// route's 4xx and 5xx responses so that the OpenAPI document shows it too.
import Type, { type TSchema } from 'typebox'

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'An RFC 6749 §5.2 code on the OAuth endpoints; not_found, conflict, unavailable… elsewhere.' }),
    error_description: Type.String({ description: 'For people: what was wrong and, where it helps, what to do.' }),
    details: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), { description: 'Validation errors: where in the request, and what.' }),
    ),
  },
  { description: 'An error.' },
)

/** A route's response schemas: the given successes, and the error body on every 4xx and 5xx. */
export function withErrors<R extends Record<number, TSchema>>(ok: R): R & { '4xx': typeof ErrorBody; '5xx': typeof ErrorBody } {
  return { ...ok, '4xx': ErrorBody, '5xx': ErrorBody }
}
