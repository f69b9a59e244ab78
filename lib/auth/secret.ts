import { env } from '../env';
import { EddyError } from '../errors';

/** The key that signs session JWTs and salts visitor ids. `npm start` provides one. */
export function authSecret(): string {
  const s = env().AUTH_SECRET;
  if (!s)
    throw new EddyError('config', 'Invalid setting AUTH_SECRET: required (npm start generates one in EDDY_DATA_DIR)');
  return s;
}
