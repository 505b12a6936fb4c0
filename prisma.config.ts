// Prisma CLI configuration (Prisma 7 reads the database URL from here, not from the schema).
// Tessera applies migrations itself at start; this lets an operator use `prisma migrate deploy`
// or `prisma migrate status` against the same DATABASE_URL, where Prisma's engines can run.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
})
