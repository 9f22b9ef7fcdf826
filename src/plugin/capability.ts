// The capability contract. Each capability folder (src/voice, src/messaging, src/presence, …)
// exports one `Capability` from its index.ts; src/platform.ts composes them from a list. A
// capability never reaches into another's folder: what one offers to others goes through a
// typed `Port` declared in ./ports.ts, offered by one capability and needed by the others.
import type { Registry } from 'prom-client';
import type { Config, Logger } from '../core/index.js';
import type { RestRoute } from '../core/rest.js';
import type { SharedState } from '../state/index.js';
import type { Migration, Store } from '../store/index.js';

/** A named slot for a narrow interface one capability offers to the others. */
export interface Port<T> {
  readonly name: string;
  /** Phantom: carries T for the type checker only. */
  readonly _type?: T;
}

export function port<T>(name: string): Port<T> {
  return { name };
}

export interface Offer<T> {
  readonly port: Port<T>;
  readonly value: T;
}

export function offer<T>(p: Port<T>, value: T): Offer<T> {
  return { port: p, value };
}

/** Addresses of this node, known before any capability starts. */
export interface PlatformUrls {
  /** Base URL of the HTTP API on this node, e.g. http://127.0.0.1:3000 */
  readonly api: string;
  /** Base URL the outside world uses to reach the API (SWITCHBOARD_PUBLIC_URL or api). */
  readonly public: string;
}

/** What the platform hands every capability when it starts. */
export interface CapabilityContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly state: SharedState;
  readonly metrics: Registry;
  /** This process among the nodes sharing the store. */
  readonly nodeId: string;
  readonly urls: PlatformUrls;
  /** A port offered by a capability listed earlier; throws when none does. */
  need<T>(p: Port<T>): T;
  /** A port offered by a capability listed earlier, or undefined when none does. */
  want<T>(p: Port<T>): T | undefined;
}

/** One WebSocket as a capability sees it (the edge owns the protocol framing). */
export interface WebSocketPeer {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** What a capability does with one accepted WebSocket. */
export interface WebSocketHandler {
  /** A text frame (binary frames are refused by the edge). */
  message(text: string): void;
  /** The socket closed, for any reason. */
  closed(): void;
}

/** A WebSocket endpoint a capability serves on the TLS listener (e.g. presence's /signal). */
export interface WebSocketRoute {
  readonly path: string;
  /** Larger frames close the socket (1009). */
  readonly maxFrameBytes: number;
  accept(peer: WebSocketPeer, meta: { remoteAddress: string }): WebSocketHandler;
}

/** What a started capability gives back to the platform. */
export interface StartedCapability {
  readonly routes?: readonly RestRoute[];
  readonly websockets?: readonly WebSocketRoute[];
  readonly offers?: readonly Offer<unknown>[];
  /** Called in reverse start order, before the ports close. */
  stop?(): Promise<void>;
}

export interface Capability {
  /** Lower-case, unique: 'voice', 'messaging', 'presence', … */
  readonly name: string;
  /** Its tables: applied at start and by `switchboard migrate`. Names are globally unique. */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** The ports it reads through need()/want(): checked against the list's order at start. */
  readonly needs?: readonly Port<unknown>[];
  start(ctx: CapabilityContext): Promise<StartedCapability>;
}
