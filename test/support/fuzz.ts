// How many cases a property-based test of hostile input tries: its own figure by default (fast
// enough for CI), or SWITCHBOARD_FUZZ_RUNS for a longer corpus run (docs/security.md).
export function fuzzRuns(base: number): number {
  const wanted = Number(process.env.SWITCHBOARD_FUZZ_RUNS);
  return Number.isInteger(wanted) && wanted > 0 ? wanted : base;
}
