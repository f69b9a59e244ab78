-- Visitor ids seen in the last 30 minutes of a salt period, written by collect (lib/collect/identity/
-- handover.ts) so that, right after the salt rotates, such a visitor keeps their id without
-- collect reading the events archive (a workers' sink, written with their lag). A row is useless
-- once keep_until has passed; collect and the retention job delete it then.
CREATE TABLE "rotation_handovers" (
    "site_id" UUID NOT NULL,
    "visitor_id" TEXT NOT NULL,
    "keep_until" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rotation_handovers_pkey" PRIMARY KEY ("site_id","visitor_id")
);
ALTER TABLE "rotation_handovers" ADD CONSTRAINT "rotation_handovers_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
