-- A job's checkpoint is written whole with every batch (the sessions job's holds every open visit:
-- ~540 bytes each, megabytes at a few thousand visitors). As jsonb, PostgreSQL parses and
-- re-encodes all of it on every UPDATE; nothing queries inside it but the pipeline page. As json
-- it is stored as the text the worker sent (still compressed by TOAST): a 3.1 MB checkpoint's
-- UPDATE took 163 ms as jsonb and 32 ms as json on the same machine (bench/checkpoint-write.ts).
-- AlterTable
ALTER TABLE "consumer_progress" ALTER COLUMN "state" SET DATA TYPE JSON USING "state"::json;
