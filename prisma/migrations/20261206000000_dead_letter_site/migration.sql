-- A record that decoded but could not be applied names its site: keep it with the dead letter.
ALTER TABLE "dead_letters" ADD COLUMN "site_id" UUID;
CREATE INDEX "dead_letters_site_id_idx" ON "dead_letters"("site_id");
