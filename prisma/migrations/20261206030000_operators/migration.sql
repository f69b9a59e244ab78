-- The pipeline page is for whoever runs the install: its first account, plus EDDY_OPERATORS.
ALTER TABLE "users" ADD COLUMN "is_operator" BOOLEAN NOT NULL DEFAULT false;
-- An install that already has accounts: the oldest is the operator, as on a fresh install.
UPDATE "users" SET "is_operator" = true WHERE "id" = (SELECT "id" FROM "users" ORDER BY "created_at", "id" LIMIT 1);
