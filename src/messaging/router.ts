// Provider selection: every enabled provider with a price for the destination is scored on
// price, expected queue wait, observed delivery rate and latency, health and priority; the
// weights are configurable and the whole decision is kept on the message. See docs/messaging.md.

export interface RouteWeights {
  readonly price: number;
  readonly queue: number;
  readonly delivery: number;
  readonly latency: number;
  readonly health: number;
  readonly priority: number;
}

export const DEFAULT_WEIGHTS: RouteWeights = {
  price: 0.35,
  queue: 0.25,
  delivery: 0.2,
  latency: 0.1,
  health: 0.1,
  priority: 0.05,
};

export interface Candidate {
  readonly sid: string;
  readonly name: string;
  /** Price per segment for this destination (from the longest matching prefix). */
  readonly price: number;
  readonly prefix: string;
  /** Segments per second the provider accepts. */
  readonly throughput: number;
  /** Segments waiting in its queue. */
  readonly queueDepth: number;
  readonly maxWaitMs: number;
  /** Delivered / finished over the sliding window, and how many finished. */
  readonly delivered: number;
  readonly finished: number;
  /** Median submit-to-receipt latency over the window, when known. */
  readonly latencyP50Ms: number | null;
  /** Bound (or reachable) and circuit closed. */
  readonly healthy: boolean;
  readonly priority: number;
}

export interface ScoredCandidate {
  readonly sid: string;
  readonly name: string;
  readonly score: number;
  readonly price: number;
  readonly prefix: string;
  readonly terms: {
    readonly price: number;
    readonly queue: number;
    readonly delivery: number;
    readonly latency: number;
    readonly health: number;
    readonly priority: number;
  };
}

export interface Decision {
  readonly chosen: ScoredCandidate;
  readonly candidates: readonly ScoredCandidate[];
  readonly reason: string;
}

/** Longest prefix of `to` (digits, without +) with a price; "" is the catch-all. */
export function priceFor(
  prices: Readonly<Record<string, number>>,
  to: string,
): { prefix: string; price: number } | undefined {
  const digits = to.replace(/^\+/, '');
  let best: { prefix: string; price: number } | undefined;
  for (const [raw, price] of Object.entries(prices)) {
    const prefix = raw.replace(/^\+/, '');
    if (digits.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) {
      best = { prefix, price };
    }
  }
  return best;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Scores the candidates, best first. Unhealthy providers are kept but score 0 on health. */
export function score(
  candidates: readonly Candidate[],
  weights: RouteWeights = DEFAULT_WEIGHTS,
): ScoredCandidate[] {
  if (!candidates.length) return [];
  const minPrice = Math.min(...candidates.map((c) => c.price));
  const maxPriority = Math.max(...candidates.map((c) => c.priority));
  const total =
    weights.price +
      weights.queue +
      weights.delivery +
      weights.latency +
      weights.health +
      weights.priority || 1;
  return candidates
    .map((c) => {
      const waitS = c.queueDepth / Math.max(0.001, c.throughput);
      const terms = {
        price: c.price <= 0 ? 1 : minPrice / c.price,
        queue: 1 - Math.min(1, waitS / Math.max(0.001, c.maxWaitMs / 1000)),
        // A prior of 9 delivered out of 10 keeps a new provider from scoring 0 or 1 on luck.
        delivery: (c.delivered + 9) / (c.finished + 10),
        latency: c.latencyP50Ms === null ? 0.5 : 1 / (1 + c.latencyP50Ms / 2000),
        health: c.healthy ? 1 : 0,
        priority: maxPriority > 0 ? c.priority / maxPriority : 0,
      };
      const s =
        (weights.price * terms.price +
          weights.queue * terms.queue +
          weights.delivery * terms.delivery +
          weights.latency * terms.latency +
          weights.health * terms.health +
          weights.priority * terms.priority) /
        total;
      return {
        sid: c.sid,
        name: c.name,
        score: round(s),
        price: c.price,
        prefix: c.prefix,
        terms: {
          price: round(terms.price),
          queue: round(terms.queue),
          delivery: round(terms.delivery),
          latency: round(terms.latency),
          health: terms.health,
          priority: round(terms.priority),
        },
      };
    })
    .sort(
      (a, b) =>
        b.score - a.score || b.terms.priority - a.terms.priority || a.name.localeCompare(b.name),
    );
}

/**
 * Picks a provider: the best-scoring healthy one, or the best unhealthy one when none is
 * healthy (the message then waits in that queue for the provider to come back or to move).
 */
export function decide(
  candidates: readonly Candidate[],
  weights: RouteWeights = DEFAULT_WEIGHTS,
  exclude: ReadonlySet<string> = new Set(),
): Decision | undefined {
  const eligible = candidates.filter((c) => !exclude.has(c.sid));
  const scored = score(eligible, weights);
  const healthy = new Set(eligible.filter((c) => c.healthy).map((c) => c.sid));
  const chosen = scored.find((c) => healthy.has(c.sid)) ?? scored[0];
  if (!chosen) return undefined;
  const t = chosen.terms;
  const reason =
    `${chosen.name} scored ${chosen.score} of ${scored.length} candidate(s): ` +
    `price ${chosen.price} for prefix "${chosen.prefix}" (term ${t.price}), queue ${t.queue}, ` +
    `delivery ${t.delivery}, latency ${t.latency}, health ${t.health}` +
    (healthy.has(chosen.sid) ? '' : '; no healthy provider, waiting in its queue');
  return { chosen, candidates: scored, reason };
}
