// Devices in motion: each position report of a SIM is answered with its current prediction;
// on the way into predicted poor coverage a coverage.warning is raised (webhook + interaction
// log), priority flows are raised, bulk traffic is held (delivery.ts) and, by the fleet's
// rules, the session may be redirected to another network of its profile; on the way out a
// coverage.cleared follows. A SIM's motion state lives in the shared state, so any node may
// take its next report.
import type { Logger } from '../core/index.js';
import { fail } from '../core/errors.js';
import type { AccountDirectory, InteractionLog } from '../plugin/index.js';
import type { SharedState } from '../state/index.js';
import { callWebhook } from '../webhook/index.js';
import { bearingDeg, distanceM } from './geo.js';
import type { CoverageMap } from './map.js';
import type { PacketCore } from './packet-core.js';
import { TREND_S, type Prediction, type RoutePoint } from './predictor.js';
import { isDegraded } from './reports.js';
import type { FleetRules, RulesStore } from './rules.js';
import type { CoverageService } from './service.js';
import type { SuperSimStore } from './supersim-store.js';
import { decideSwitch, type SwitchDecision } from './switching.js';

export interface PositionReport {
  readonly t: number;
  readonly lat: number;
  readonly lng: number;
  readonly speed: number | null;
  readonly heading: number | null;
  readonly rsrp: number | null;
  readonly mode: string | null;
  readonly network: string | null;
  readonly route: readonly RoutePoint[] | undefined;
}

interface MotionState {
  t: number;
  lat: number;
  lng: number;
  heading: number;
  network: string;
  /** [t, rsrp] of the last few seconds. */
  rsrp: [number, number][];
  warning: boolean;
  /** When the warning was raised, or the device was last in poor coverage under it. */
  warningAt: number | null;
  lastSwitchAt: number | null;
}

/** A warning stands at least this long, so that one uncertain second does not clear it. */
const MIN_WARNING_MS = 10_000;

export interface Decision {
  readonly action: string;
  readonly reasons: readonly string[];
  readonly [k: string]: unknown;
}

export interface PositionOutcome {
  readonly simSid: string;
  readonly networkSid: string;
  readonly poorNow: boolean;
  readonly warning: boolean;
  readonly prediction: Prediction;
  readonly decisions: readonly Decision[];
}

const KEY = 'coverage:motion:';
const TTL_MS = 6 * 3600_000;

export interface MotionDeps {
  readonly service: CoverageService;
  readonly sims: SuperSimStore;
  readonly rules: RulesStore;
  readonly core: PacketCore;
  readonly state: SharedState;
  readonly log: InteractionLog;
  readonly accounts: AccountDirectory | undefined;
  readonly logger: Logger;
  readonly kick: (simSid: string) => void;
}

/** Expected seconds of poor coverage along a path's cells within the horizon on a network. */
export function poorSecondsAlong(
  map: CoverageMap,
  network: string,
  path: readonly string[],
  horizonS: number,
  threshold: number,
  unknownIsPoor: boolean,
): number {
  if (path.length === 0) return 0;
  const per = horizonS / path.length;
  let sum = 0;
  for (const c of path) {
    const v = map.view(network, c, threshold);
    sum +=
      per *
      (v.poorProbability === null || v.weight < 1 ? (unknownIsPoor ? 1 : 0) : v.poorProbability);
  }
  return sum;
}

export class Motion {
  constructor(private readonly d: MotionDeps) {}

  async linkState(simSid: string): Promise<{ poorNow: boolean; warning: boolean }> {
    const raw = await this.d.state.get(KEY + simSid);
    if (!raw) return { poorNow: false, warning: false };
    const s = JSON.parse(raw) as MotionState & { poorNow?: boolean };
    return { poorNow: s.poorNow === true, warning: s.warning };
  }

  async report(accountSid: string, simRef: string, p: PositionReport): Promise<PositionOutcome> {
    const sim = await this.d.sims.sim(accountSid, simRef);
    if (sim.status !== 'active') fail('simNotActive', sim.sid);
    const ctx = await this.d.sims.simContext(sim.sid);
    const networks = ctx?.networks ?? [];
    const rules = await this.d.rules.rules(sim.fleet_sid);
    const session = await this.d.core.session(sim.sid);
    const network = p.network ?? session?.networkSid ?? networks[0];
    if (!network) fail('positionRejected', 'the SIM has no network: its fleet profile lists none');
    if (!networks.includes(network))
      fail('unknownNetwork', `${network} is not in the SIM's network access profile`);
    if (!session) await this.d.core.attach(sim.sid, network, p.t);

    const raw = await this.d.state.get(KEY + sim.sid);
    const prev = raw ? (JSON.parse(raw) as MotionState) : undefined;
    if (prev && p.t < prev.t)
      fail('positionRejected', 'time is before the previous report of this SIM');
    const moved = prev ? distanceM(prev, p) : 0;
    const dt = prev ? (p.t - prev.t) / 1000 : 0;
    const heading =
      p.heading ?? (prev && moved > 2 ? bearingDeg(prev, p) : (prev?.heading ?? Number.NaN));
    const speed = p.speed ?? (prev && dt > 0 && dt < 30 ? moved / dt : 0);
    const history = (prev?.rsrp ?? []).filter(([t]) => p.t - t <= (TREND_S + 2) * 1000);
    if (p.rsrp !== null) history.push([p.t, p.rsrp]);
    const then = history.find(([t]) => p.t - t >= (TREND_S - 1) * 1000);
    const map = this.d.service.map;
    const cell = map.cellOf(p.lat, p.lng);
    if (p.rsrp !== null) {
      map.add(network, 'device', cell, p.rsrp, p.t, isDegraded(p.mode));
      this.d.service.remember(sim.sid, network, p.t, cell, heading, speed, p.rsrp);
    }
    const prediction = this.d.service.predictor.predict(
      {
        device: sim.sid,
        network,
        t: p.t,
        lat: p.lat,
        lng: p.lng,
        speed,
        heading,
        rsrp: p.rsrp,
        rsrpChange: then && p.rsrp !== null ? p.rsrp - then[1] : null,
        route: p.route,
      },
      { threshold: rules.poorRsrpDbm, horizonS: rules.horizonS },
    );
    const poorNow =
      (p.rsrp !== null && p.rsrp <= rules.poorRsrpDbm) || (rules.poorOn3g && isDegraded(p.mode));
    const decisions: Decision[] = [];
    let warning = prev?.warning ?? false;
    let warningAt = prev?.warningAt ?? null;
    if (warning && poorNow) warningAt = p.t;
    let lastSwitchAt = prev?.lastSwitchAt ?? null;
    let current = network;
    if (!warning && !poorNow && prediction.poorAhead) {
      warning = true;
      warningAt = p.t;
      await this.event(
        accountSid,
        sim.sid,
        sim.fleet_sid,
        rules,
        'coverage.warning',
        network,
        prediction,
      );
      if (rules.prioritise) {
        await this.d.core.setPriorityFlows(sim.sid, true);
        decisions.push(
          this.decide(accountSid, sim.sid, 'prioritise', [
            `poor coverage predicted in ${Math.round(prediction.entryInS ?? 0)} s (p=${prediction.probability.toFixed(2)})`,
            'priority commands first, priority flows raised',
            ...(rules.holdBulk ? ['bulk held until coverage is good again'] : []),
          ]),
        );
      }
    } else if (
      warning &&
      !poorNow &&
      !prediction.poorAhead &&
      p.t - (warningAt ?? 0) >= MIN_WARNING_MS
    ) {
      warning = false;
      warningAt = null;
      await this.event(
        accountSid,
        sim.sid,
        sim.fleet_sid,
        rules,
        'coverage.cleared',
        network,
        prediction,
      );
      await this.d.core.setPriorityFlows(sim.sid, false);
      decisions.push(
        this.decide(accountSid, sim.sid, 'release', [
          'no poor coverage predicted ahead',
          'bulk released',
        ]),
      );
    }
    // While a warning stands (and before the device is inside), a switch is weighed at every
    // report: the stretch ahead sharpens as it nears; the dwell keeps it from flapping.
    if (
      warning &&
      !poorNow &&
      prediction.poorAhead &&
      rules.switchNetworks &&
      networks.length > 1
    ) {
      const onset = prev?.warning !== true;
      const s = await this.considerSwitch(
        accountSid,
        sim.sid,
        network,
        networks,
        prediction,
        rules,
        p.t,
        lastSwitchAt,
        onset,
      );
      if (s.decision) decisions.push(s.decision);
      if (s.to) {
        current = s.to;
        lastSwitchAt = p.t;
      }
    }
    const next: MotionState & { poorNow: boolean } = {
      t: p.t,
      lat: p.lat,
      lng: p.lng,
      heading,
      network: current,
      rsrp: history.slice(-12),
      warning,
      warningAt,
      lastSwitchAt,
      poorNow,
    };
    await this.d.state.set(KEY + sim.sid, JSON.stringify(next), TTL_MS);
    this.d.kick(sim.sid);
    return { simSid: sim.sid, networkSid: current, poorNow, warning, prediction, decisions };
  }

  private async considerSwitch(
    accountSid: string,
    simSid: string,
    network: string,
    networks: readonly string[],
    prediction: Prediction,
    rules: FleetRules,
    now: number,
    lastSwitchAt: number | null,
    logStay: boolean,
  ): Promise<{ decision?: Decision; to?: string }> {
    const map = this.d.service.map;
    const h = rules.horizonS;
    const currentPoor = Math.max(
      poorSecondsAlong(map, network, prediction.path, h, rules.poorRsrpDbm, false),
      // Without the crowd's spell lengths, the stretch is taken to last to the horizon.
      prediction.probability *
        (prediction.durationS ?? Math.max(0, h - (prediction.entryInS ?? 0))),
    );
    const alternatives = [];
    for (const n of networks) {
      if (n === network) continue;
      const row = await this.d.sims.network(accountSid, n).catch(() => undefined);
      if (!row) continue;
      alternatives.push({
        networkSid: n,
        poorSeconds: poorSecondsAlong(map, n, prediction.path, h, rules.poorRsrpDbm, true),
        switchCostS: row.switch_cost_s,
      });
    }
    const d: SwitchDecision = decideSwitch({
      current: { networkSid: network, poorSeconds: currentPoor, switchCostS: 0 },
      alternatives,
      now,
      lastSwitchAt,
      minDwellS: rules.minDwellS,
      margin: rules.switchMargin,
    });
    if (!d.switch)
      return logStay ? { decision: this.decide(accountSid, simSid, 'stay', d.reasons) } : {};
    const cost = alternatives.find((a) => a.networkSid === d.to)?.switchCostS ?? 0;
    await this.d.core.redirect(simSid, d.to, cost, now);
    return {
      decision: this.decide(accountSid, simSid, 'switch', d.reasons, {
        from: network,
        to: d.to,
        net_gain_s: d.netGainS,
      }),
      to: d.to,
    };
  }

  /** Logs a decision taken outside a position report (route advice). */
  logDecision(
    accountSid: string,
    simSid: string,
    action: string,
    reasons: readonly string[],
    extra: Record<string, unknown> = {},
  ): Decision {
    return this.decide(accountSid, simSid, action, reasons, extra);
  }

  private decide(
    accountSid: string,
    simSid: string,
    action: string,
    reasons: readonly string[],
    extra: Record<string, unknown> = {},
  ): Decision {
    const decision = { action, reasons, ...extra };
    this.d.log.record({
      accountSid,
      kind: 'coverage.decision',
      subjectSid: simSid,
      tags: ['coverage', action],
      data: decision,
    });
    this.d.logger.info({ sim: simSid, ...decision }, 'coverage decision');
    return decision;
  }

  private async event(
    accountSid: string,
    simSid: string,
    fleetSid: string | null,
    rules: FleetRules,
    type: 'coverage.warning' | 'coverage.cleared',
    network: string,
    p: Prediction,
  ): Promise<void> {
    const data = {
      sim_sid: simSid,
      fleet_sid: fleetSid,
      network_sid: network,
      probability: Number(p.probability.toFixed(3)),
      entry_in_seconds: p.entryInS === null ? null : Math.round(p.entryInS),
      duration_seconds: p.durationS === null ? null : Math.round(p.durationS),
      confidence: Number(p.confidence.toFixed(3)),
    };
    this.d.log.record({
      accountSid,
      kind: type,
      subjectSid: simSid,
      tags: ['coverage', type],
      data,
    });
    const url = rules.callbackUrl;
    if (!url) return;
    const token = await this.d.accounts?.authToken(accountSid);
    if (!token) return;
    const params: Record<string, string> = {
      EventType: type,
      AccountSid: accountSid,
      Timestamp: new Date().toISOString(),
    };
    for (const [k, v] of Object.entries(data))
      if (v !== null)
        params[k.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())] = String(v);
    // Not awaited: a slow receiver must not hold the device's answer.
    void callWebhook({
      url,
      params,
      authToken: token,
      attempts: 3,
      retryOnStatus: true,
      timeoutMs: 5000,
    })
      .then((o) => {
        if (!o.ok) this.d.logger.warn({ url, type, code: o.code }, 'coverage webhook failed');
      })
      .catch((err: unknown) => this.d.logger.warn({ err, url }, 'coverage webhook failed'));
  }
}
