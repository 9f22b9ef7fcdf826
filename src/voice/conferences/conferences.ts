// The conferences of this node and the way to reach them from any node. A room lives on the
// node whose call created it (its mixer is there); callers reaching another node cannot join
// it (cross-node rooms are not done). API commands (mute, hold, kick, end) travel over the
// shared-state bus to the node holding the room, as live call commands do.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Errors, newSid, type Logger } from '../../core/index.js';
import type { SharedState } from '../../state/index.js';
import type { CallbackOutbox } from '../callbacks/index.js';
import type { ConferenceNoun } from '../twiml/index.js';
import type { ConferenceAudio, ConferenceLeg, ConferenceOutcome } from './ports.js';
import { LiveConference } from './room.js';
import type { ConferenceStore } from './store.js';

export type ConferenceCommand =
  | { readonly conferenceSid: string; readonly action: 'end' }
  | { readonly conferenceSid: string; readonly callSid: string; readonly action: 'kick' }
  | {
      readonly conferenceSid: string;
      readonly callSid: string;
      readonly action: 'update';
      readonly muted?: boolean;
      readonly hold?: boolean;
      readonly holdUrl?: string;
      readonly holdMethod?: 'GET' | 'POST';
      readonly endConferenceOnExit?: boolean;
    };

export interface ConferencesOptions {
  readonly store: ConferenceStore;
  /** Conference and recording status callbacks go through the durable outbox. */
  readonly outbox: CallbackOutbox;
  readonly state: SharedState;
  readonly logger: Logger;
  /** Absent when SIP is off: no room can be opened. */
  readonly audio: ConferenceAudio | undefined;
  readonly dataDir: string;
  readonly publicUrl: () => string;
  readonly webhookTimeoutMs?: number;
}

const CONTROL_CHANNEL = 'voice:conference-control';
/** A room's claim on its name, refreshed while it lives, so a crashed node's claim lapses. */
const CLAIM_TTL_MS = 30_000;
const CLAIM_REFRESH_MS = 10_000;
/** Longest a dialled-in participant may take to join (ring timeout 600 s, plus the webhook). */
const DIAL_IN_WATCH_MS = 660_000;

export class Conferences {
  /** Live rooms of this node by account + friendly name. */
  private readonly rooms = new Map<string, LiveConference>();
  private readonly bySid = new Map<string, LiveConference>();
  readonly nodeId = randomUUID();
  private unsubscribe: (() => Promise<void>) | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private readonly recordingsDir: string;

  constructor(private readonly options: ConferencesOptions) {
    this.recordingsDir = join(options.dataDir, 'recordings');
    mkdirSync(this.recordingsDir, { recursive: true });
  }

  get store(): ConferenceStore {
    return this.options.store;
  }

  /** Subscribes to commands; on a single node, closes rooms a previous run left open. */
  async start(options: { recoverOrphans: boolean }): Promise<void> {
    if (options.recoverOrphans) {
      const closed = await this.options.store.closeOrphans(undefined, Date.now());
      if (closed) this.options.logger.warn({ conferences: closed }, 'closed conferences left open');
    }
    this.unsubscribe = await this.options.state.subscribe(CONTROL_CHANNEL, (raw) => {
      let cmd: ConferenceCommand;
      try {
        cmd = JSON.parse(raw) as ConferenceCommand;
      } catch {
        this.options.logger.warn({ raw: raw.slice(0, 100) }, 'malformed conference command');
        return;
      }
      void this.apply(cmd).catch((err: unknown) =>
        this.options.logger.error({ err, cmd }, 'conference command failed'),
      );
    });
    let ticks = 0;
    this.refresh = setInterval(() => {
      for (const room of this.bySid.values()) void this.claim(room).catch(() => undefined);
      if (++ticks % 3 === 0)
        void this.sweep().catch((err: unknown) =>
          this.options.logger.error({ err }, 'conference sweep failed'),
        );
    }, CLAIM_REFRESH_MS);
    this.refresh.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.refresh);
    await Promise.allSettled(
      [...this.bySid.values()].map((r) => r.end('conference-ended-via-api', null)),
    );
    await this.unsubscribe?.();
  }

  /**
   * Ends the rows of rooms whose node stopped holding them (a crashed node): open, older than
   * a claim's life, held by no node. Younger rows may be rooms whose claim is being written.
   */
  async sweep(now = Date.now()): Promise<number> {
    const open = await this.options.store.openBefore(now - CLAIM_TTL_MS);
    let ended = 0;
    for (const row of open) {
      if (this.bySid.has(row.sid)) continue;
      const claim = await this.options.state.get(this.claimKey(row.account_sid, row.friendly_name));
      if (claim && (JSON.parse(claim) as { sid: string }).sid === row.sid) continue;
      await this.options.store.endOrphan(row.sid, now);
      ended++;
    }
    if (ended) this.options.logger.warn({ conferences: ended }, 'ended rooms no node holds');
    return ended;
  }

  private claimKey(accountSid: string, name: string): string {
    return `voice:conference:${accountSid}:${Buffer.from(name).toString('base64url')}`;
  }

  private async claim(room: LiveConference): Promise<void> {
    await this.options.state.set(
      this.claimKey(room.row.account_sid, room.row.friendly_name),
      JSON.stringify({ sid: room.sid, node: this.nodeId }),
      CLAIM_TTL_MS,
    );
  }

  /** `<Dial><Conference>`: joins (creating the room if needed) until the participant leaves. */
  async join(leg: ConferenceLeg, noun: ConferenceNoun): Promise<ConferenceOutcome> {
    const key = `${leg.accountSid}\n${noun.name}`;
    let room = this.rooms.get(key);
    if (!room) {
      const refused = await this.refuseElsewhere(leg, noun.name);
      if (refused) return refused;
      room = this.rooms.get(key) ?? (await this.open(leg, noun, key));
      if (!room) return { status: 'failed', durationS: 0 };
    }
    if (noun.participantLabel && room.hasLabel(noun.participantLabel)) {
      leg.notify(
        Errors.conferenceLabelInUse.code,
        `participantLabel ${noun.participantLabel} is in use in ${noun.name}`,
        null,
      );
      return { status: 'failed', durationS: 0 };
    }
    if (room.full) {
      leg.notify(
        Errors.conferenceFull.code,
        `conference ${noun.name} is full (maxParticipants ${room.size})`,
        null,
      );
      return { status: 'failed', durationS: 0 };
    }
    return room.run(leg, noun);
  }

  /** A room of that name held by another node (or left by a crashed one) cannot be joined here. */
  private async refuseElsewhere(
    leg: ConferenceLeg,
    name: string,
  ): Promise<ConferenceOutcome | undefined> {
    const claim = await this.options.state.get(this.claimKey(leg.accountSid, name));
    const holder = claim ? (JSON.parse(claim) as { sid: string; node: string }) : undefined;
    if (holder && holder.node !== this.nodeId) {
      leg.notify(
        Errors.conferenceUnavailable.code,
        `conference ${name} lives on another node; cross-node conferences are not supported`,
        null,
      );
      return { status: 'failed', durationS: 0 };
    }
    // A row still open without a live claim belongs to a node that stopped: it has ended.
    const stale = await this.options.store.live(leg.accountSid, name);
    if (stale && !this.bySid.has(stale.sid))
      await this.options.store.endOrphan(stale.sid, Date.now());
    return undefined;
  }

  private async open(
    leg: ConferenceLeg,
    noun: ConferenceNoun,
    key: string,
  ): Promise<LiveConference | undefined> {
    if (!this.options.audio) {
      leg.notify(
        Errors.conferenceUnavailable.code,
        'conferences need SIP media on this node',
        null,
      );
      return undefined;
    }
    const now = Date.now();
    const room = new LiveConference(
      {
        store: this.options.store,
        outbox: this.options.outbox,
        logger: this.options.logger,
        recordingsDir: this.recordingsDir,
        webhookTimeoutMs: this.options.webhookTimeoutMs ?? 15_000,
        recordingUrl: (account, sid) =>
          `${this.options.publicUrl()}/2010-04-01/Accounts/${account}/Recordings/${sid}`,
      },
      {
        sid: newSid('CF'),
        account_sid: leg.accountSid,
        friendly_name: noun.name,
        status: 'init',
        reason_conference_ended: null,
        call_sid_ending_conference: null,
        node_id: this.nodeId,
        date_created: now,
        date_updated: now,
      },
      this.options.audio.createRoom(),
      noun,
    );
    this.rooms.set(key, room);
    this.bySid.set(room.sid, room);
    room.onEnded = () => {
      this.rooms.delete(key);
      this.bySid.delete(room.sid);
      void this.options.state
        .del(this.claimKey(room.row.account_sid, room.row.friendly_name))
        .catch(() => undefined);
    };
    await this.claim(room);
    return room;
  }

  /**
   * A participant dialled in through the API is `queued` until its call joins the room; it
   * follows the call (`ringing`) and is `failed` when the call ends without joining.
   */
  watchDialIn(conferenceSid: string, accountSid: string, callSid: string): void {
    const { store, logger } = this.options;
    const started = Date.now();
    const timer = setInterval(() => {
      void (async () => {
        const p = await store.participant(accountSid, conferenceSid, callSid);
        if (!p || (p.status !== 'queued' && p.status !== 'ringing')) return clearInterval(timer);
        const status = await store.callStatus(callSid);
        if (status === 'ringing' && p.status === 'queued')
          await store.updateParticipant(conferenceSid, callSid, { status: 'ringing' });
        else if (
          (status && ['completed', 'busy', 'failed', 'no-answer', 'canceled'].includes(status)) ||
          Date.now() - started > DIAL_IN_WATCH_MS
        ) {
          clearInterval(timer);
          await store.updateParticipant(conferenceSid, callSid, { status: 'failed' });
        }
      })().catch((err: unknown) => logger.error({ err, callSid }, 'dial-in watch failed'));
    }, 500);
    timer.unref();
  }

  /** Sends an API command to whichever node holds the room. */
  async command(cmd: ConferenceCommand): Promise<void> {
    if (this.bySid.has(cmd.conferenceSid)) {
      await this.apply(cmd);
      return;
    }
    await this.options.state.publish(CONTROL_CHANNEL, JSON.stringify(cmd));
  }

  private async apply(cmd: ConferenceCommand): Promise<void> {
    const room = this.bySid.get(cmd.conferenceSid);
    if (!room) return;
    if (cmd.action === 'end') {
      await room.end('conference-ended-via-api', null);
      return;
    }
    if (cmd.action === 'kick') {
      room.kick(cmd.callSid);
      return;
    }
    if (cmd.muted !== undefined) await room.setMuted(cmd.callSid, cmd.muted);
    if (cmd.hold !== undefined)
      await room.setHold(cmd.callSid, cmd.hold, cmd.holdUrl, cmd.holdMethod ?? 'POST');
    if (cmd.endConferenceOnExit !== undefined)
      await room.setEndOnExit(cmd.callSid, cmd.endConferenceOnExit);
  }

  /** Whether this node holds the room (tests and diagnostics). */
  holds(conferenceSid: string): boolean {
    return this.bySid.has(conferenceSid);
  }
}
