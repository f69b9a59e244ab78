-- Who may accept an invitation: only the account with its email (the default), or, when the
-- inviter chose it, anyone holding the link.
ALTER TABLE "invites" ADD COLUMN "anyone_with_link" BOOLEAN NOT NULL DEFAULT false;
-- Invitations created before the choice existed: those without an address were link invitations
-- and stay so; those with an address become bound to it.
UPDATE "invites" SET "anyone_with_link" = true WHERE "email" IS NULL;
