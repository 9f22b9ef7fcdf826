// A message's routing log (the `routing` extension field): what happened to it, in order, and
// the Twilio error codes a delivery can end with.
import { sql, type Kysely } from 'kysely';
import type { Statement } from '../store/index.js';
import type { Decision } from './router.js';
import type { MessagingTables } from './tables.js';

/** One entry of a message's routing log. */
export interface RouteEvent {
  readonly at: number;
  readonly event:
    | 'scheduled'
    | 'canceled'
    | 'routed'
    | 'rerouted'
    | 'sending'
    | 'sent'
    | 'retry'
    | 'in-doubt'
    | 'failed'
    | 'receipt';
  readonly provider?: string;
  readonly detail: string;
  readonly candidates?: readonly { name: string; score: number; price: number }[];
}

export const DELIVERY_ERRORS: Record<number, string> = {
  30001: 'Queue overflow',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
  30036: 'Validity period expired',
};

/** The routing log's entry for a provider chosen: every candidate's score and price. */
export function decisionEvent(
  event: 'routed' | 'rerouted',
  decision: Decision,
  at: number,
  detail: string,
): RouteEvent {
  return {
    at,
    event,
    provider: decision.chosen.name,
    detail,
    candidates: decision.candidates.map((c) => ({ name: c.name, score: c.score, price: c.price })),
  };
}

/** Appends an event to the JSON array in `route` without reading it (works on both dialects). */
export function routeAppend(ev: RouteEvent) {
  return sql<string>`substr(route, 1, length(route) - 1) || ${',' + JSON.stringify(ev) + ']'}`;
}

/** The statement that appends an event to a message's routing log. */
export function appendRoute(db: Kysely<MessagingTables>, sid: string, ev: RouteEvent): Statement {
  return db
    .updateTable('messaging_messages')
    .set({ route: routeAppend(ev) })
    .where('sid', '=', sid)
    .compile();
}
