-- Issue 15: API keys for the events and stats APIs (owned by lib/api-keys), and the ledger's
-- count of events that came through the events API rather than the tracker.
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "scopes" TEXT[],
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_keys_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");
CREATE INDEX "api_keys_site_id_idx" ON "api_keys"("site_id");

ALTER TABLE "ingestion_ledger" ADD COLUMN "received_api" INTEGER NOT NULL DEFAULT 0;
