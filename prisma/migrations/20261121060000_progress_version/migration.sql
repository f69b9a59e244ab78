-- AlterTable
ALTER TABLE "consumer_progress" ADD COLUMN "version" BIGINT NOT NULL DEFAULT 0;
