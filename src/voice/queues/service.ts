import type { CallChannel } from '../engine/channel.js';
import type { HttpMethod } from '../twiml/verbs.js';
import type { QueueStore } from './queue-store.js';
import type { MemberRow, QueueRow } from './tables.js';

/** What a dequeuing call (`<Dial><Queue>`) hands to the member it took. */
export interface DequeueRequest {
  readonly agentCallSid: string;
  /** The dequeuing call's leg: the member bridges to it. */
  readonly agent: CallChannel;
  /** Absolute URL of TwiML played to the member first (`<Queue url>`). */
  readonly url: string | undefined;
  readonly method: HttpMethod;
  /** Aborted when the dequeuing side stops (it hung up, was redirected, hit timeLimit or `*`). */
  readonly agentSignal: AbortSignal;
}

export interface DequeueOutcome {
  /** False when the member had already gone (hung up, left) and was not connected. */
  readonly bridged: boolean;
  /** Seconds the two calls were connected. */
  readonly durationS: number;
}

/** A waiting member's answer to a dequeue: resolves once the bridge is over. */
export type MemberHandle = (request: DequeueRequest) => Promise<DequeueOutcome>;

/**
 * Call queues for the voice engine of one node: the shared store (membership, order, size)
 * and the members waiting on this node, which a `<Dial><Queue>` here can bridge to.
 */
export class QueueService {
  private readonly waiting = new Map<string, MemberHandle>();

  constructor(
    readonly store: QueueStore,
    /** Identifies this node in member rows (a dequeue takes only members it can bridge). */
    readonly nodeId: string,
  ) {}

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
