// The trackers of every account, kept in memory on each node: the event log's writer asks at
// every batch which trackers follow an event. A change on any node is announced on the shared
// state's bus and every node reloads; a periodic reload covers a lost announcement.
import type { Logger } from '../core/index.js';
import type { SharedState } from '../state/index.js';
import type { Kysely } from '../store/index.js';
import type { TrackingTables } from './tables.js';
import { trackerOf, type Tracker } from './trackers.js';

const CHANNEL = 'tracking:trackers';
const RELOAD_MS = 5_000;

export class TrackerRegistry {
  private byAccount = new Map<string, Tracker[]>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Kysely<TrackingTables>,
    private readonly state: SharedState,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe = await this.state.subscribe(CHANNEL, () => void this.reloadLogged());
    this.timer = setInterval(() => void this.reloadLogged(), RELOAD_MS);
    this.timer.unref();
  }

  /** A tracker by its SID (of any account), as this node knows it. */
  bySid(sid: string): Tracker | undefined {
    for (const list of this.byAccount.values()) {
      const t = list.find((x) => x.sid === sid);
      if (t) return t;
    }
    return undefined;
  }

  of(accountSid: string): readonly Tracker[] {
    return this.byAccount.get(accountSid) ?? [];
  }

  get size(): number {
    let n = 0;
    for (const list of this.byAccount.values()) n += list.length;
    return n;
  }

  /** After a change made here: this node at once, the others when they hear. */
  async changed(): Promise<void> {
    await this.reload();
    await this.state.publish(CHANNEL, 'changed');
  }

  private async reloadLogged(): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      this.logger.warn({ err }, 'could not reload trackers');
    }
  }

  private async reload(): Promise<void> {
    const rows = await this.db.selectFrom('trackers').selectAll().execute();
    const next = new Map<string, Tracker[]>();
    for (const row of rows) {
      const t = trackerOf(row);
      const list = next.get(t.accountSid);
      if (list) list.push(t);
      else next.set(t.accountSid, [t]);
    }
    this.byAccount = next;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.();
  }
}
