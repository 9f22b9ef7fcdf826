// What a dequeuing call and a waiting member hand each other, on one node or across two
// (service.ts runs the first, remote.ts the second; both speak this vocabulary).
import type { CallChannel } from '../ports/index.js';
import type { HttpMethod } from '../twiml/index.js';

/** The dequeuing call's audio as the member's node sees it. */
export interface AgentLeg {
  readonly channel: CallChannel;
  /** Called when the bridge is over (hangs up a leg placed between two nodes). */
  release(): void;
}

/** What a dequeuing call (`<Dial><Queue>`) hands to the member it took. */
export interface DequeueRequest {
  readonly agentCallSid: string;
  /**
   * Connects to the dequeuing call, after the whisper: its own leg when both calls are on one
   * node, else a SIP leg to the node holding it. Undefined when it is gone.
   */
  connectAgent(): Promise<AgentLeg | undefined>;
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

/** What the dequeuing side knows when it took a member. */
export interface Dequeuer {
  readonly agentCallSid: string;
  readonly agent: CallChannel;
  readonly url: string | undefined;
  readonly method: HttpMethod;
  readonly agentSignal: AbortSignal;
}
