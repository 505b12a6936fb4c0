-- Clients gain what the authorization code flow needs (issue 18, SPEC §4): the exact redirect
-- URIs and post-logout redirect URIs registered for them, whether they are first-party (no
-- consent page), and their own refresh-token reuse leeway (seconds; NULL: the default, 10 s for
-- cookie-delivery clients and REFRESH_REUSE_LEEWAY for the others).

-- AlterTable
ALTER TABLE "clients" ADD COLUMN "first_party" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "post_logout_redirect_uris" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN "redirect_uris" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN "reuse_leeway" INTEGER;

-- Prisma declares list columns without NOT NULL (and schema.prisma must match the migrations);
-- the checks say it instead, and bound the leeway as registration does.
ALTER TABLE "clients" ADD CONSTRAINT "clients_redirect_uris_not_null" CHECK ("redirect_uris" IS NOT NULL),
ADD CONSTRAINT "clients_post_logout_redirect_uris_not_null" CHECK ("post_logout_redirect_uris" IS NOT NULL),
ADD CONSTRAINT "clients_reuse_leeway_range" CHECK ("reuse_leeway" BETWEEN 0 AND 300);

-- SPEC §4: a client registered for the password grant is first-party. Existing ones keep working.
UPDATE "clients" SET "first_party" = true WHERE 'password' = ANY ("grant_types");
