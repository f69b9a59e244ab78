import type { Prisma } from '../db/generated/client';

// Every way an account comes to exist (sign-up, OAuth sign-in, the demo account) goes through
// here, so "the first account of an install is its operator" has one implementation.

type Tx = Prisma.TransactionClient;

/**
 * Inserts a user inside the caller's transaction. The first user of the install becomes the
 * operator (sees the pipeline page; lib/pipeline/operators.ts). Account creation is serialised
 * on an advisory lock held to the end of the transaction, so two concurrent first sign-ups cannot
 * both see an empty table; after the lock, READ COMMITTED's next statement sees any user an
 * earlier holder committed.
 */
export async function insertUser(tx: Tx, data: Omit<Prisma.UserCreateInput, 'isOperator'>) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('accounts:first-user', 0))`;
  const first = (await tx.user.findFirst({ select: { id: true } })) === null;
  return tx.user.create({ data: { ...data, isOperator: first } });
}
