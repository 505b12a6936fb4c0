-- The revocation feed (GET /revocations): revocations read in order of revoked_at, and the
-- sids of revoked families deleted with their client, kept until their access tokens expire.

-- CreateTable
CREATE TABLE "revoked_sessions" (
    "sid" UUID NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "revoked_sessions_pkey" PRIMARY KEY ("sid")
);

-- CreateIndex
CREATE INDEX "refresh_families_revoked_at_idx" ON "refresh_families"("revoked_at");

-- CreateIndex
CREATE INDEX "revoked_tokens_revoked_at_idx" ON "revoked_tokens"("revoked_at");

-- CreateIndex
CREATE INDEX "revoked_sessions_revoked_at_idx" ON "revoked_sessions"("revoked_at");
