// How the messaging capability is configured by the platform that composes it.
import type { Logger } from '../core/index.js';
import type { Queues } from '../queue/index.js';
import type { SharedState } from '../state/index.js';
import type { Store } from '../store/index.js';
import type { Carrier } from './carriers/carrier.js';
import type { NumberSmsLookup } from './inbound.js';
import type { RouteWeights } from './router.js';
import type { MessageStatus, ProviderRow } from './tables.js';

export interface MessageStatusChange {
  readonly accountSid: string;
  readonly messageSid: string;
  readonly status: MessageStatus;
  readonly errorCode: number | null;
  readonly segments: number;
}

export interface MessagingOptions {
  readonly store: Store;
  readonly queues: Queues;
  readonly logger: Logger;
  /** The account's AuthToken, to sign webhooks (undefined: the account is gone). */
  authToken(accountSid: string): Promise<string | undefined>;
  readonly weights?: RouteWeights;
  /** Builds the carrier connection of a provider (tests may substitute one). */
  readonly carrierFor?: (row: ProviderRow) => Carrier;
  /** Webhook retry attempts (default 3). */
  readonly webhookAttempts?: number;
  /** Each status a message takes after its create (the interaction log records it). */
  readonly onStatus?: (change: MessageStatusChange) => void;
  /**
   * How long a claimed message stays invisible to other claimers (default 15 s): after a crash,
   * the time before its queued messages are picked up again.
   */
  readonly leaseMs?: number;
  /** Base URL the platform is reached at (HTTP carriers post their callbacks under it). */
  readonly publicUrl?: () => string;
  /** Where inbound messages to a number outside every service go (IncomingPhoneNumbers). */
  readonly numberSmsRoute?: NumberSmsLookup;
  /** Shared state for per-sender throughput caps across nodes (absent: caps are not applied). */
  readonly state?: SharedState;
  /** Status callbacks pipelined on one connection to a receiver (default 1: none). */
  readonly callbackPipelining?: number;
  /** Shortest time ahead a message may be scheduled for, seconds (default 300, as Twilio). */
  readonly scheduleMinLeadSeconds?: number;
}
