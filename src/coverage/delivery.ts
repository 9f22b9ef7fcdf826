// Delivers queued SMS and IP Commands through each SIM's data session. Normally first in,
// first out; when a poor-coverage warning stands for the SIM (motion.ts), the fleet's rules
// put priority commands first and hold bulk ones until the device is back in good coverage.
// Nothing leaves while the device is in poor coverage or its session is being redirected.
// A command that cannot reach its device fails: its SIM was deactivated, or it waited longer
// than a command is kept (24 h, as the real API keeps trying an SMS Command).
import type { Logger } from '../core/index.js';
import type { InteractionLog } from '../plugin/index.js';
import type { SharedState } from '../state/index.js';
import type { Statement } from '../store/index.js';
import type { CommandStore } from './commands.js';
import type { PacketCore } from './packet-core.js';
import type { RulesStore } from './rules.js';
import type { SuperSimStore } from './supersim-store.js';
import type { CommandRow } from './tables.js';

/** What the steering knows of a SIM's radio link right now. */
export interface LinkState {
  /** The device reports poor coverage (or no service) now. */
  readonly poorNow: boolean;
  /** A coverage.warning stands: poor coverage is predicted within the horizon. */
  readonly warning: boolean;
}

export interface DeliveryDeps {
  readonly commands: CommandStore;
  readonly sims: SuperSimStore;
  readonly core: PacketCore;
  readonly rules: RulesStore;
  readonly state: SharedState;
  readonly log: InteractionLog;
  readonly logger: Logger;
  readonly link: (simSid: string) => Promise<LinkState>;
  /** Statements committed with a command's new status (its callbacks' job). */
  readonly settled: (row: CommandRow) => Statement[];
  /** After a command's new status is committed. */
  readonly afterSettled: () => void;
  readonly onDelivered?: (row: CommandRow) => void;
  /** How long a command waits for its device before it fails (ms; default 24 h). */
  readonly validityMs?: number;
}

const DAY_MS = 24 * 3600_000;

/** The order a session takes queued commands in, and which it holds back. */
export function deliveryOrder(
  queued: readonly CommandRow[],
  link: LinkState,
  prioritise: boolean,
  holdBulk: boolean,
): CommandRow[] {
  if (link.poorNow) return [];
  if (!link.warning || !prioritise) return [...queued];
  const priority = queued.filter((c) => c.priority === 1);
  const bulk = holdBulk ? [] : queued.filter((c) => c.priority !== 1);
  return [...priority, ...bulk];
}

export class DeliveryPump {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly pending = new Set<string>();

  constructor(private readonly d: DeliveryDeps) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  /** Stops the ticks and waits for the one running (it uses the store, which closes next). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Pumps a SIM soon (a command was queued, its link changed). */
  kick(simSid: string): void {
    this.pending.add(simSid);
    setImmediate(() => void this.tick());
  }

  private tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      const sims = new Set([...this.pending, ...(await this.d.commands.simsWithQueued(500))]);
      this.pending.clear();
      for (const sim of sims) await this.pump(sim);
      await this.expire();
    } catch (err) {
      this.d.logger.warn({ err }, 'command delivery failed; retried next tick');
    }
  }

  /** Fails every queued command of a SIM that can no longer receive them (deactivated). */
  async failQueued(simSid: string): Promise<number> {
    let failed = 0;
    for (;;) {
      const rows = await this.d.commands.queued(simSid, 200);
      for (const r of rows) if (await this.d.commands.markFailed(r, this.d.settled)) failed++;
      if (rows.length < 200) break;
    }
    if (failed) this.d.afterSettled();
    return failed;
  }

  /** Fails the commands that waited longer than they are kept. */
  private async expire(): Promise<void> {
    const rows = await this.d.commands.queuedBefore(
      Date.now() - (this.d.validityMs ?? DAY_MS),
      200,
    );
    let failed = 0;
    for (const r of rows) if (await this.d.commands.markFailed(r, this.d.settled)) failed++;
    if (failed) this.d.afterSettled();
  }

  /** Delivers what one SIM's session can carry this second. */
  async pump(simSid: string): Promise<number> {
    const now = Date.now();
    const session = await this.d.core.session(simSid);
    if (!session || session.unavailableUntil > now) return 0;
    const ctx = await this.d.sims.simContext(simSid);
    if (!ctx || ctx.sim.status !== 'active') return 0;
    const rules = await this.d.rules.rules(ctx.sim.fleet_sid);
    const link = await this.d.link(simSid);
    const queued = await this.d.commands.queued(simSid, 200);
    const order = deliveryOrder(queued, link, rules.prioritise, rules.holdBulk);
    let sent = 0;
    for (const c of order.slice(0, rules.commandsPerSecond)) {
      const seq = await this.d.state.incr('coverage:delivery-seq', 1, 365 * 86_400_000);
      if (!(await this.d.commands.markDelivered(c, seq, this.d.settled))) continue;
      sent++;
      this.d.afterSettled();
      await this.d.commands.addUsage(
        c.account_sid,
        simSid,
        ctx.sim.fleet_sid,
        session.networkSid,
        Buffer.byteLength(c.payload),
        now,
      );
      this.d.onDelivered?.(c);
      if (link.warning && c.priority === 1)
        this.d.log.record({
          accountSid: c.account_sid,
          kind: 'coverage.decision',
          subjectSid: simSid,
          tags: ['coverage', 'prioritise'],
          data: {
            action: 'deliver-first',
            command: c.sid,
            reasons: ['poor coverage predicted', 'priority flow'],
          },
        });
    }
    return sent;
  }
}
