-- Failed password checks are counted per sign-in name (a hash of the normalised email), for
-- accounts that exist and for those that do not, so that a lockout reads the same either way.
-- This replaces the two columns on users, which could only count existing accounts.

-- AlterTable
ALTER TABLE "users" DROP COLUMN "failed_logins",
DROP COLUMN "locked_until";

-- CreateTable
CREATE TABLE "login_failures" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "locked_until" TIMESTAMPTZ(3),

    CONSTRAINT "login_failures_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "login_failures_window_start_idx" ON "login_failures"("window_start");
