import { env } from '../env';
import { EddyError } from '../errors';

/** The pipeline page is for the team that runs Eddy: EDDY_OPERATORS, or every user of a self-hosted install when unset. */
export function requireOperator(email: string): void {
  const ops = env().EDDY_OPERATORS;
  if (ops && !ops.includes(email.toLowerCase())) throw new EddyError('not_found', 'Not found');
}
