// The network-switch decision (the granted claims: switch only when the time the other
// network covers the predicted poor stretch outweighs the cost of switching), with hysteresis:
// a margin over the cost, and a minimum dwell on a network between two switches, so that a
// device on the edge of two networks never flaps between them.

export interface NetworkOutlook {
  readonly networkSid: string;
  /** Expected seconds of poor coverage within the horizon on this network. */
  readonly poorSeconds: number;
  /** Seconds without data a switch onto it costs (0 for the current network). */
  readonly switchCostS: number;
}

export interface SwitchInput {
  readonly current: NetworkOutlook;
  readonly alternatives: readonly NetworkOutlook[];
  readonly now: number;
  /** When this SIM last switched (ms), or null. */
  readonly lastSwitchAt: number | null;
  readonly minDwellS: number;
  /** The gain must exceed the cost by this factor (≥ 1). */
  readonly margin: number;
}

export type SwitchDecision =
  | { readonly switch: false; readonly reasons: readonly string[] }
  | {
      readonly switch: true;
      readonly to: string;
      /** Outage seconds the switch is expected to avoid, net of its cost. */
      readonly netGainS: number;
      readonly reasons: readonly string[];
    };

export function decideSwitch(i: SwitchInput): SwitchDecision {
  if (i.lastSwitchAt !== null && i.now - i.lastSwitchAt < i.minDwellS * 1000)
    return {
      switch: false,
      reasons: [
        `switched ${Math.round((i.now - i.lastSwitchAt) / 1000)} s ago, under the ${i.minDwellS} s dwell`,
      ],
    };
  let best: { o: NetworkOutlook; gain: number } | undefined;
  for (const o of i.alternatives) {
    if (o.networkSid === i.current.networkSid) continue;
    // Seconds of poor coverage avoided, less the seconds the switch itself goes without data.
    const gain = i.current.poorSeconds - o.poorSeconds;
    if (
      gain > Math.max(1e-9, i.margin * o.switchCostS) &&
      (!best || gain - o.switchCostS > best.gain - best.o.switchCostS)
    )
      best = { o, gain };
  }
  if (!best)
    return {
      switch: false,
      reasons: [
        `no network of the profile avoids more than ${i.margin}x its switching cost of the ${i.current.poorSeconds.toFixed(0)} s predicted poor`,
        ...i.alternatives.map(
          (o) => `${o.networkSid}: ${o.poorSeconds.toFixed(0)} s poor, cost ${o.switchCostS} s`,
        ),
      ],
    };
  return {
    switch: true,
    to: best.o.networkSid,
    netGainS: best.gain - best.o.switchCostS,
    reasons: [
      `${i.current.poorSeconds.toFixed(0)} s poor predicted on ${i.current.networkSid}`,
      `${best.o.poorSeconds.toFixed(0)} s on ${best.o.networkSid}`,
      `gain ${best.gain.toFixed(0)} s > ${i.margin} x switching cost ${best.o.switchCostS} s`,
    ],
  };
}
