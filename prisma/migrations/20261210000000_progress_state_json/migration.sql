-- A job's checkpoint is written whole with every batch (the sessions job's holds every open visit:
-- ~540 bytes each, megabytes at a few thousand visitors). As jsonb, PostgreSQL parses and
-- re-encodes all of it on every UPDATE; nothing queries inside it but the pipeline page. As json
-- it is stored as the text the worker sent (still compressed by TOAST): with 10,000 open visits
-- (5.6 MB) the UPDATE took 520 ms as jsonb and 129 ms as json on the same machine
-- (bench/checkpoint-write.ts, docs/BENCHMARKS.md).
-- AlterTable
ALTER TABLE "consumer_progress" ALTER COLUMN "state" SET DATA TYPE JSON USING "state"::json;
