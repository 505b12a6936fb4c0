// Identifier formats.

/** Ids that reach a uuid column must look like one, or Postgres refuses the whole query. */
export const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)
