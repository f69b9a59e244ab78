// Retry schedule for failed deliveries: 2 s, 4 s, 8 s … capped at 5 min; give up after MAX_ATTEMPTS.

export const MAX_ATTEMPTS = 6;

export function retryDelayMs(attempts: number): number {
  return Math.min(2000 * 2 ** Math.max(0, attempts - 1), 300_000);
}
