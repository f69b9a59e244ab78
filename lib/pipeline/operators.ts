import { env } from '../env';
import { EddyError } from '../errors';

/**
 * The pipeline page shows every site's partitions, lag and worker hosts: it is for whoever runs
 * this install, not for every signed-up customer. Operators are the install's first account
 * (users.is_operator) and the emails listed in EDDY_OPERATORS. Everyone else gets 404, the same
 * as a page that does not exist, so its existence is not revealed.
 */
export function isOperator(user: { email: string; isOperator: boolean }): boolean {
  return user.isOperator || (env().EDDY_OPERATORS?.includes(user.email.toLowerCase()) ?? false);
}

export function requireOperator(user: { email: string; isOperator: boolean }): void {
  if (!isOperator(user)) throw new EddyError('not_found', 'Not found');
}
