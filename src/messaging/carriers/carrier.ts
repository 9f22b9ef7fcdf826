// The carrier port of the messaging domain: what a provider connection (SMPP or HTTP) offers to
// the per-provider worker. Submits resolve with the carrier's message ids (one per part) or
// reject with a classified SubmitError; receipts and inbound messages arrive as events.
import type { EventEmitter } from 'node:events';
import type { Receipt } from './smpp/status.js';

export interface OutboundSms {
  readonly from: string;
  readonly to: string;
  readonly body: string;
  /** Concatenation reference shared by the parts of a long message. */
  readonly ref: number;
  /** Seconds the carrier may keep trying (SMPP validity_period). */
  readonly validitySeconds?: number;
  /** The message SID (HTTP carriers get it as an idempotency key). */
  readonly sid?: string;
  /** MMS media (only carriers that declare MMS support are given any). */
  readonly mediaUrls?: readonly string[];
}

export interface InboundMedia {
  readonly url: string;
  readonly contentType: string | null;
}

export interface InboundSms {
  readonly from: string;
  readonly to: string;
  readonly body: string;
  /** MMS media of an inbound message (HTTP carriers). */
  readonly media?: readonly InboundMedia[];
  /** Called once the message is stored (an HTTP carrier answers its callback then). */
  readonly stored?: () => void;
}

export interface CarrierState {
  /** Binds (SMPP) or connections configured and currently bound. */
  readonly binds: number;
  readonly bound: number;
  /** Submits awaiting a response. */
  readonly outstanding: number;
  /** True while every bind is waiting to reconnect. */
  readonly backingOff: boolean;
}

export interface CarrierEvents {
  /** A delivery receipt; call `stored` once it is durably recorded (the carrier then acks it). */
  receipt: [Receipt, () => void];
  inbound: [InboundSms];
  state: [CarrierState];
}

export interface Carrier extends EventEmitter<CarrierEvents> {
  readonly kind: 'smpp' | 'http';
  /** The carrier takes MMS (media URLs). */
  readonly mms?: boolean;
  start(): void;
  stop(): Promise<void>;
  /** Submits every part of a message; resolves with the carrier's id of each part. */
  submit(sms: OutboundSms): Promise<string[]>;
  /** Submits that can be started now without waiting for a window slot. */
  capacity(): number;
  /** At least one bind is up. */
  isUp(): boolean;
  state(): CarrierState;
}
