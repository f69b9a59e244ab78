-- Freshness SLA per site, alert rules/history/deliveries, in-app notifications, worker heartbeats, digests.

-- CreateTable
CREATE TABLE "site_slas" (
    "site_id" UUID NOT NULL,
    "target_ms" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "site_slas_pkey" PRIMARY KEY ("site_id")
);

-- CreateTable
CREATE TABLE "freshness_samples" (
    "id" BIGSERIAL NOT NULL,
    "site_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "delay_ms" INTEGER NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 1,
    "source" TEXT NOT NULL,

    CONSTRAINT "freshness_samples_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sla_minutes" (
    "site_id" UUID NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "freshness_ms" INTEGER NOT NULL,
    "target_ms" INTEGER NOT NULL,
    "breached" BOOLEAN NOT NULL,
    "cause" TEXT,

    CONSTRAINT "sla_minutes_pkey" PRIMARY KEY ("site_id","minute")
);

-- CreateTable
CREATE TABLE "sla_breaches" (
    "id" BIGSERIAL NOT NULL,
    "site_id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "cause" TEXT NOT NULL,
    "worst_ms" INTEGER NOT NULL,
    "target_ms" INTEGER NOT NULL,

    CONSTRAINT "sla_breaches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_rules" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "condition" JSONB NOT NULL,
    "for_seconds" INTEGER NOT NULL DEFAULT 0,
    "cooldown_seconds" INTEGER NOT NULL DEFAULT 600,
    "channels" JSONB NOT NULL,
    "muted" BOOLEAN NOT NULL DEFAULT false,
    "state" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_events" (
    "id" BIGSERIAL NOT NULL,
    "rule_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "dedup_key" TEXT NOT NULL,
    "suppressed" TEXT,
    "value" DOUBLE PRECISION,
    "message" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "event_id" BIGINT NOT NULL,
    "channel" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "http_status" INTEGER,
    "error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notifications" (
    "id" BIGSERIAL NOT NULL,
    "user_id" UUID NOT NULL,
    "site_id" UUID,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "link" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "read_at" TIMESTAMPTZ(3),

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "worker_heartbeats" (
    "worker_id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "jobs" TEXT[],
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "worker_heartbeats_pkey" PRIMARY KEY ("worker_id")
);

-- CreateTable
CREATE TABLE "digests_sent" (
    "site_id" UUID NOT NULL,
    "week" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "digests_sent_pkey" PRIMARY KEY ("site_id","week")
);

-- CreateIndex
CREATE INDEX "freshness_samples_site_id_at_idx" ON "freshness_samples"("site_id", "at");
CREATE INDEX "sla_breaches_site_id_started_at_idx" ON "sla_breaches"("site_id", "started_at");
CREATE INDEX "alert_rules_site_id_idx" ON "alert_rules"("site_id");
CREATE UNIQUE INDEX "alert_events_rule_id_dedup_key_key" ON "alert_events"("rule_id", "dedup_key");
CREATE INDEX "alert_events_site_id_created_at_idx" ON "alert_events"("site_id", "created_at");
CREATE INDEX "alert_deliveries_status_next_attempt_at_idx" ON "alert_deliveries"("status", "next_attempt_at");
CREATE INDEX "alert_deliveries_event_id_idx" ON "alert_deliveries"("event_id");
CREATE INDEX "notifications_user_id_created_at_idx" ON "notifications"("user_id", "created_at");

-- AddForeignKey
ALTER TABLE "site_slas" ADD CONSTRAINT "site_slas_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "sla_breaches" ADD CONSTRAINT "sla_breaches_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "alert_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
