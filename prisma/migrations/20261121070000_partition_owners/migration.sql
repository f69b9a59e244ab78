-- CreateTable
CREATE TABLE "partition_owners" (
    "job" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "worker_id" TEXT NOT NULL,
    "assigned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "partition_owners_pkey" PRIMARY KEY ("job","topic","partition")
);
