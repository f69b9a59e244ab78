import { migrate } from '@/lib/db/migrate';
import { databaseUrl } from '@/lib/db/client';
import { isEddyError } from '@/lib/errors';

// `npm run migrate`: applies prisma/migrations to DATABASE_URL (npm start does this itself).
migrate(databaseUrl())
  .then((r) => {
    console.log(`[migrate] applied: ${r.applied.join(', ') || 'none'}; already applied: ${r.alreadyApplied.length}`);
    process.exit(0);
  })
  .catch((e: unknown) => {
    console.error(isEddyError(e) ? e.message : e);
    process.exit(1);
  });
