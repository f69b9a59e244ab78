-- CreateEnum
CREATE TYPE "SaltRotation" AS ENUM ('day', 'week', 'month');

-- AlterTable
ALTER TABLE "sites" ADD COLUMN "salt_rotation" "SaltRotation" NOT NULL DEFAULT 'day',
ADD COLUMN "respect_dnt" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN "rate_limit_per_minute" INTEGER NOT NULL DEFAULT 6000;

-- CreateTable
CREATE TABLE "salts" (
    "rotation" "SaltRotation" NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "salt" BYTEA NOT NULL,

    CONSTRAINT "salts_pkey" PRIMARY KEY ("rotation","period_start")
);

-- CreateTable
CREATE TABLE "ingestion_ledger" (
    "site_id" UUID NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "received" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "dropped_bot" INTEGER NOT NULL DEFAULT 0,
    "dropped_spam" INTEGER NOT NULL DEFAULT 0,
    "dropped_hostname" INTEGER NOT NULL DEFAULT 0,
    "dropped_rate_limited" INTEGER NOT NULL DEFAULT 0,
    "dropped_unknown_site" INTEGER NOT NULL DEFAULT 0,
    "malformed" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "late" INTEGER NOT NULL DEFAULT 0,
    "dead_lettered" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ingestion_ledger_pkey" PRIMARY KEY ("site_id","minute")
);

-- CreateIndex
CREATE INDEX "events_site_id_visitor_id_ts_idx" ON "events"("site_id", "visitor_id", "ts");
