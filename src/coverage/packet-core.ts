// The packet core as the coverage capability sees it: each SIM has one data session on one
// network through a gateway (APN -> PGW in 4G, SMF + UPF in 5G), and a session can be
// redirected to another network of the fleet's profile at a cost. No 4G/5G core is installable
// here, so the capability runs against SimulatedPacketCore; a real core (Open5GS, free5GC)
// would sit behind the same interface, redirecting through its own control plane (PFCP/N4 or
// the SMF's API) instead of rewriting a record.
import type { SharedState } from '../state/index.js';

export interface DataSession {
  readonly simSid: string;
  readonly networkSid: string;
  readonly apn: string;
  /** The gateway anchoring the session (PGW or SMF+UPF). */
  readonly gateway: string;
  readonly ipAddress: string;
  readonly attachedAt: number;
  /** Until this time (ms) the session carries nothing: a redirection's detach/attach gap. */
  readonly unavailableUntil: number;
  /** Priority flows raised (a higher QoS class for the device's priority traffic). */
  readonly priorityRaised: boolean;
  readonly redirects: number;
}

export interface RedirectOutcome {
  readonly session: DataSession;
  /** Seconds without data the redirection costs (detach + attach on the new network). */
  readonly gapS: number;
}

/** The port the coverage capability needs from a packet core. */
export interface PacketCore {
  readonly kind: string;
  /** The SIM's session, opening one on `networkSid` when it has none. */
  attach(simSid: string, networkSid: string, now: number): Promise<DataSession>;
  session(simSid: string): Promise<DataSession | undefined>;
  /** Gateway redirection of the SIM's session onto another network. */
  redirect(simSid: string, networkSid: string, gapS: number, now: number): Promise<RedirectOutcome>;
  /** Raises (or lowers) the QoS of the session's priority flows. */
  setPriorityFlows(simSid: string, raised: boolean): Promise<void>;
  detach(simSid: string): Promise<void>;
}

const KEY = 'coverage:session:';
/** Sessions of devices silent this long are forgotten (the core's idle timer). */
const SESSION_TTL_MS = 24 * 3600_000;

/**
 * A packet core simulated in the shared state, so that every node sees the same sessions (in
 * process, or Redis when REDIS_URL is set).
 */
export class SimulatedPacketCore implements PacketCore {
  readonly kind = 'simulator';
  constructor(private readonly state: SharedState) {}

  async session(simSid: string): Promise<DataSession | undefined> {
    const raw = await this.state.get(KEY + simSid);
    return raw ? (JSON.parse(raw) as DataSession) : undefined;
  }

  private async save(s: DataSession): Promise<DataSession> {
    await this.state.set(KEY + s.simSid, JSON.stringify(s), SESSION_TTL_MS);
    return s;
  }

  async attach(simSid: string, networkSid: string, now: number): Promise<DataSession> {
    const existing = await this.session(simSid);
    if (existing) return existing;
    return this.save({
      simSid,
      networkSid,
      apn: 'super',
      gateway: `pgw-sim/${networkSid.slice(-6)}`,
      ipAddress: simulatedAddress(simSid),
      attachedAt: now,
      unavailableUntil: now,
      priorityRaised: false,
      redirects: 0,
    });
  }

  async redirect(
    simSid: string,
    networkSid: string,
    gapS: number,
    now: number,
  ): Promise<RedirectOutcome> {
    const s = (await this.session(simSid)) ?? (await this.attach(simSid, networkSid, now));
    const session = await this.save({
      ...s,
      networkSid,
      gateway: `pgw-sim/${networkSid.slice(-6)}`,
      attachedAt: now,
      unavailableUntil: now + gapS * 1000,
      redirects: s.redirects + 1,
    });
    return { session, gapS };
  }

  async setPriorityFlows(simSid: string, raised: boolean): Promise<void> {
    const s = await this.session(simSid);
    if (s && s.priorityRaised !== raised) await this.save({ ...s, priorityRaised: raised });
  }

  async detach(simSid: string): Promise<void> {
    await this.state.del(KEY + simSid);
  }
}

/** A stable private address for the simulated session (100.64.0.0/10, carrier-grade NAT space). */
function simulatedAddress(simSid: string): string {
  const h = parseInt(simSid.slice(-6), 16);
  return `100.${64 + ((h >> 16) & 63)}.${(h >> 8) & 255}.${h & 255}`;
}
