// Dequeuing a member that waits on another node. Each call stays on the node that took it, and
// audio is bridged only inside one process, so the two nodes join with a SIP leg between them:
//
//   agent node A                         shared-state bus                member node B
//   claims the member row  ──── dequeue {token, sip:queue-<token>@A} ────▶ finds the member
//                          ◀─────────────────── ack ───────────────────── plays <Queue url>
//   INVITE sip:queue-<token>@A ◀══════════════ SIP + RTP ═══════════════ dials A
//   bridges agent ↔ that leg                                             bridges member ↔ leg
//
// Either side hanging up ends the leg, which ends the other bridge. The token is 128 random
// bits, used once, and accepted only while the agent waits for it.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/index.js';
import type { SharedState } from '../../state/index.js';
import type { CallChannel, Dialer } from '../ports/index.js';
import type { HttpMethod } from '../twiml/index.js';
import type { DequeueOutcome, MemberHandle } from './member.js';
import type { MemberRow } from './tables.js';

const CHANNEL = 'voice:queues';
/** How long the member's node has to confirm it still holds the call. */
const ACK_MS = 3000;
/** How long the member's node has to place the leg once its whisper is over. */
const LEG_TIMEOUT_S = 15;
const USER = /^queue-([0-9a-f]{32})$/;

type Message =
  | {
      readonly kind: 'dequeue';
      readonly to: string;
      readonly from: string;
      readonly token: string;
      readonly memberCallSid: string;
      readonly agentCallSid: string;
      readonly agentUri: string;
      readonly url: string | undefined;
      readonly method: HttpMethod;
    }
  | {
      readonly kind: 'ack' | 'stop';
      readonly to: string;
      readonly token: string;
    }
  | {
      readonly kind: 'result';
      readonly to: string;
      readonly token: string;
      readonly bridged: boolean;
    };

interface AgentWait {
  ack(): void;
  leg(channel: CallChannel): void;
  refused(): void;
}

export interface RemoteOptions {
  readonly state: SharedState;
  readonly dialer: Dialer;
  readonly nodeId: string;
  /** This node's SIP URI for a user part (where other nodes send the bridging leg). */
  readonly sipUri: (user: string) => string;
  readonly logger: Logger;
  /** The waiting member of this node with that CallSid. */
  readonly local: (callSid: string) => MemberHandle | undefined;
}

const NOT_BRIDGED: DequeueOutcome = { bridged: false, durationS: 0 };

type Event =
  | { readonly kind: 'ack' | 'refused' | 'stopped' | 'timeout' }
  | { readonly kind: 'leg'; readonly leg: CallChannel };

/** Events in arrival order for one awaiting reader. */
class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: ((v: T) => void) | undefined;

  push(v: T): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(v);
    else this.items.push(v);
  }

  next(): Promise<T> {
    if (this.items.length) return Promise.resolve(this.items.shift() as T);
    return new Promise((r) => (this.waiter = r));
  }
}

export class RemoteQueues {
  private readonly agents = new Map<string, AgentWait>();
  private readonly serving = new Map<string, AbortController>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly o: RemoteOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.o.state.subscribe(CHANNEL, (raw) => this.onMessage(raw));
  }

  async stop(): Promise<void> {
    for (const s of this.serving.values()) s.abort();
    await this.unsubscribe?.();
  }

  private send(message: Message): void {
    this.o.state.publish(CHANNEL, JSON.stringify(message)).catch((err: unknown) => {
      this.o.logger.error({ err, kind: message.kind }, 'queue bus message not sent');
    });
  }

  private onMessage(raw: string): void {
    let msg: Message;
    try {
      msg = JSON.parse(raw) as Message;
    } catch {
      this.o.logger.warn({ raw: raw.slice(0, 100) }, 'ignoring malformed queue bus message');
      return;
    }
    if (msg.to !== this.o.nodeId) return;
    if (msg.kind === 'dequeue') void this.serve(msg);
    else if (msg.kind === 'ack') this.agents.get(msg.token)?.ack();
    else if (msg.kind === 'result' && !msg.bridged) this.agents.get(msg.token)?.refused();
    else if (msg.kind === 'stop') this.serving.get(msg.token)?.abort();
  }

  // ------------------------------------------------------------------ agent's node

  /** Bridges `agent` to a member held by another node; resolves when the bridge is over. */
  async dequeue(
    member: MemberRow,
    request: {
      agentCallSid: string;
      agent: CallChannel;
      url: string | undefined;
      method: HttpMethod;
      agentSignal: AbortSignal;
    },
  ): Promise<DequeueOutcome> {
    const token = randomBytes(16).toString('hex');
    const inbox = new Inbox<Event>();
    const push = (e: Event) => inbox.push(e);
    let waiting = true;
    this.agents.set(token, {
      ack: () => push({ kind: 'ack' }),
      // A leg answered just after this agent stopped waiting would be left up: end it.
      leg: (leg) => (waiting ? push({ kind: 'leg', leg }) : leg.hangup()),
      refused: () => push({ kind: 'refused' }),
    });
    const onStop = () => push({ kind: 'stopped' });
    request.agentSignal.addEventListener('abort', onStop, { once: true });
    const ackTimer = setTimeout(() => push({ kind: 'timeout' }), ACK_MS);
    let acked = false;
    try {
      this.send({
        kind: 'dequeue',
        to: member.node_id,
        from: this.o.nodeId,
        token,
        memberCallSid: member.call_sid,
        agentCallSid: request.agentCallSid,
        agentUri: this.o.sipUri(`queue-${token}`),
        url: request.url,
        method: request.method,
      });
      for (;;) {
        const e = await inbox.next();
        if (e.kind === 'ack') {
          acked = true;
          clearTimeout(ackTimer);
          continue;
        }
        if (e.kind === 'timeout') {
          if (acked) continue;
          // No node answered for this member: its node is gone, and so is the call.
          this.o.logger.warn(
            { callSid: member.call_sid, node: member.node_id },
            'queue member on an unreachable node dropped',
          );
          return NOT_BRIDGED;
        }
        if (e.kind === 'refused') return NOT_BRIDGED;
        if (e.kind === 'stopped') {
          this.send({ kind: 'stop', to: member.node_id, token });
          return NOT_BRIDGED;
        }
        if (e.kind === 'leg')
          return await this.bridgeLeg(request.agent, e.leg, request.agentSignal);
      }
    } finally {
      waiting = false;
      clearTimeout(ackTimer);
      request.agentSignal.removeEventListener('abort', onStop);
      this.agents.delete(token);
    }
  }

  private async bridgeLeg(
    agent: CallChannel,
    leg: CallChannel,
    stop: AbortSignal,
  ): Promise<DequeueOutcome> {
    if (agent.isEnded || leg.isEnded || stop.aborted) {
      leg.hangup();
      return NOT_BRIDGED;
    }
    const start = Date.now();
    const unbridge = agent.bridge(leg);
    await new Promise<void>((resolve) => {
      stop.addEventListener('abort', () => resolve(), { once: true });
      void agent.ended.then(() => resolve());
      void leg.ended.then(() => resolve());
    });
    unbridge();
    leg.hangup();
    return { bridged: true, durationS: Math.round((Date.now() - start) / 1000) };
  }

  /**
   * An INVITE reached this node: when it is the leg a member's node places for one of our
   * waiting agents, answer it and hand it over. False for any other call.
   */
  async acceptLeg(to: string, channel: CallChannel): Promise<boolean> {
    const token = USER.exec(to)?.[1];
    const agent = token ? this.agents.get(token) : undefined;
    if (!token || !agent) return false;
    this.agents.delete(token); // used once
    if (await channel.answer()) agent.leg(channel);
    else agent.refused();
    return true;
  }

  // ------------------------------------------------------------------ member's node

  private async serve(msg: Extract<Message, { kind: 'dequeue' }>): Promise<void> {
    const handle = this.o.local(msg.memberCallSid);
    if (!handle) {
      this.send({ kind: 'result', to: msg.from, token: msg.token, bridged: false });
      return;
    }
    this.send({ kind: 'ack', to: msg.from, token: msg.token });
    const stop = new AbortController();
    this.serving.set(msg.token, stop);
    try {
      const outcome = await handle({
        agentCallSid: msg.agentCallSid,
        url: msg.url,
        method: msg.method,
        agentSignal: stop.signal,
        connectAgent: async () => {
          const out = await this.o.dialer.dial({
            to: msg.agentUri,
            from: 'switchboard-queue',
            timeoutS: LEG_TIMEOUT_S,
            signal: stop.signal,
          });
          if (!out.ok) {
            this.o.logger.warn(
              { to: msg.agentUri, status: out.status, code: out.sipResponseCode },
              'queue leg to the dequeuing node failed',
            );
            return undefined;
          }
          return { channel: out.channel, release: () => out.channel.hangup() };
        },
      });
      this.send({ kind: 'result', to: msg.from, token: msg.token, bridged: outcome.bridged });
    } finally {
      this.serving.delete(msg.token);
    }
  }
}
