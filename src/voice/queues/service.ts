import type { Logger } from '../../core/index.js';
import type { CallChannel } from '../ports/index.js';
import type { QueueStore } from './queue-store.js';
import { RemoteQueues, type RemoteOptions } from './remote.js';
import type { MemberRow, QueueRow } from './tables.js';
import type { DequeueOutcome, Dequeuer, MemberHandle } from './member.js';

const NOT_BRIDGED: DequeueOutcome = { bridged: false, durationS: 0 };

/**
 * Call queues for the voice engine of one node: the shared store (membership, order, size),
 * the members waiting on this node, and the bus protocol that bridges a dequeuing call to a
 * member on another node (remote.ts).
 */
/** How often a node confirms its waiting members, and when another node's expire. */
const HEARTBEAT_MS = 10_000;
const STALE_MS = 60_000;

export class QueueService {
  private readonly waiting = new Map<string, MemberHandle>();
  private readonly remote: RemoteQueues | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly store: QueueStore,
    /** Identifies this node in member rows. */
    readonly nodeId: string,
    private readonly logger: Logger,
    /** Cross-node bridging; without it (no SIP) only this node's members can be bridged. */
    remote?: Omit<RemoteOptions, 'nodeId' | 'local' | 'logger'>,
  ) {
    this.remote = remote
      ? new RemoteQueues({ ...remote, logger, nodeId, local: (sid) => this.local(sid) })
      : undefined;
  }

  async start(): Promise<void> {
    await this.remote?.start();
    // Members of a node that crashed would wait forever in the store: each node confirms its
    // own, and members nobody confirmed for a minute leave the queue.
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      this.store
        .touch(this.nodeId, now)
        .then(() => this.store.purgeStale(now - STALE_MS))
        .then((gone) => {
          if (gone.length)
            this.logger.warn(
              { members: gone.map((m) => m.call_sid) },
              'queue members of an unresponsive node removed',
            );
        })
        .catch((err: unknown) => this.logger.error({ err }, 'queue heartbeat failed'));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.remote?.stop();
  }

  /** Registers a waiting member of this node; returns the function that unregisters it. */
  register(callSid: string, handle: MemberHandle): () => void {
    this.waiting.set(callSid, handle);
    return () => {
      if (this.waiting.get(callSid) === handle) this.waiting.delete(callSid);
    };
  }

  local(callSid: string): MemberHandle | undefined {
    return this.waiting.get(callSid);
  }

  /**
   * Connects a member taken out of the queue to the dequeuing call, wherever the member
   * waits; resolves when their bridge is over (bridged false: the member was gone).
   */
  async dequeue(member: MemberRow, d: Dequeuer): Promise<DequeueOutcome> {
    if (member.node_id !== this.nodeId) {
      return this.remote ? this.remote.dequeue(member, d) : NOT_BRIDGED;
    }
    const handle = this.local(member.call_sid);
    if (!handle) return NOT_BRIDGED;
    return handle({
      agentCallSid: d.agentCallSid,
      url: d.url,
      method: d.method,
      agentSignal: d.agentSignal,
      connectAgent: () =>
        Promise.resolve(d.agent.isEnded ? undefined : { channel: d.agent, release: () => {} }),
    });
  }

  /** An inbound INVITE: true when it is a bridging leg from another node (then taken here). */
  acceptLeg(to: string, channel: CallChannel): Promise<boolean> {
    return this.remote ? this.remote.acceptLeg(to, channel) : Promise.resolve(false);
  }

  /** The waitUrl parameters Twilio sends: QueuePosition, QueueSid, QueueTime, AvgQueueTime… */
  async waitParams(
    queue: QueueRow,
    member: MemberRow,
    now: number,
  ): Promise<Record<string, string>> {
    const [position, stats] = await Promise.all([
      this.store.position(member),
      this.store.stats(queue.sid, now),
    ]);
    const current = await this.store.get(queue.account_sid, queue.sid);
    return {
      QueueSid: queue.sid,
      QueuePosition: String(position),
      QueueTime: String(Math.floor((now - member.date_enqueued) / 1000)),
      AvgQueueTime: String(stats.averageWaitS),
      CurrentQueueSize: String(stats.size),
      MaxQueueSize: String(current?.max_size ?? queue.max_size),
    };
  }
}
