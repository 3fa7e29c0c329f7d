// Reconnect delays: exponential back-off with full jitter (a uniform draw between 0 and the capped
// exponential), so the viewers of a restarted server come back spread over seconds, not in one burst.
// The first attempt already draws from 0-3 s: when a server restarts, its viewers return spread over seconds
// (docs/benchmarks.md has the measure), not within the half second a smaller base would give.
export const BASE_MS = 3000;
export const CAP_MS = 15000;

/** The delay before reconnect attempt {@code attempt} (0 for the first), in ms. */
export function reconnectDelay(attempt, random = Math.random) {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
