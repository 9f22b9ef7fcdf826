// Messages in doubt: a submit went (or was about to go) to the carrier, and its answer was never
// recorded — the platform was killed, or the connection dropped, between submit_sm and
// submit_sm_resp. The carrier may have the message or not, and SMPP offers no way to ask about
// a message whose id we never learnt (query_sm needs that id). So such a message waits, as
// `sending`, for a delivery receipt that names an id we do not know, matched to it by the
// handset, the receipt's text and time; with none after the provider's grace period it is sent
// again (the default: a rare duplicate rather than a silent loss, and its log says so) or
// failed with 30008, as the operator chose per provider (Settings.inDoubt, inDoubtGraceMs).
import type { Kysely } from 'kysely';
import type { Receipt } from './carriers/smpp/status.js';
import type { MessagingTables } from './tables.js';

export interface InDoubtPolicy {
  readonly action: 'resend' | 'fail';
  readonly graceMs: number;
}

/** Receipts usually follow within seconds; the default waits a few minutes for a late one. */
const DEFAULT_GRACE_MS = 5 * 60_000;
/** How far back a receipt for an unknown id looks for a message in doubt. */
const MATCH_WINDOW_MS = 24 * 3600_000;

/** The provider's choice, from its Settings JSON (checked when the provider is written). */
export function inDoubtPolicy(settingsJson: string): InDoubtPolicy {
  let s: Record<string, unknown> = {};
  try {
    s = JSON.parse(settingsJson) as Record<string, unknown>;
  } catch {
    // Settings were checked when written; a row edited by hand falls back to the defaults.
  }
  return {
    action: s.inDoubt === 'fail' ? 'fail' : 'resend',
    graceMs: typeof s.inDoubtGraceMs === 'number' ? s.inDoubtGraceMs : DEFAULT_GRACE_MS,
  };
}

/** Why the in-doubt settings are wrong, if they are. */
export function checkInDoubtSettings(s: Record<string, unknown>): string | undefined {
  if (s.inDoubt !== undefined && s.inDoubt !== 'resend' && s.inDoubt !== 'fail') {
    return 'Settings.inDoubt must be "resend" or "fail"';
  }
  const g = s.inDoubtGraceMs;
  if (g !== undefined && (typeof g !== 'number' || !Number.isInteger(g) || g < 0 || g > 864e5)) {
    return 'Settings.inDoubtGraceMs must be a whole number of milliseconds up to one day';
  }
  return undefined;
}

const digits = (addr: string) => addr.replace(/^\+/, '');

/**
 * The message a receipt naming no known id belongs to, if one is in doubt on that provider: the
 * same handset, a text that begins as the receipt shows it, the oldest first. A receipt without
 * a handset matches nothing (it could be anyone's).
 */
export async function matchInDoubt(
  db: Kysely<MessagingTables>,
  providerSid: string,
  r: Receipt,
): Promise<
  | {
      sid: string;
      account_sid: string;
      from_addr: string;
      to_addr: string;
      status_callback: string | null;
      messaging_service_sid: string | null;
      num_segments: number;
    }
  | undefined
> {
  if (!r.to) return undefined;
  const candidates = await db
    .selectFrom('messaging_messages')
    .select([
      'sid',
      'account_sid',
      'from_addr',
      'to_addr',
      'body',
      'status_callback',
      'messaging_service_sid',
      'num_segments',
    ])
    .where('provider_sid', '=', providerSid)
    .where('status', '=', 'sending')
    .where('to_addr', 'in', [`+${digits(r.to)}`, digits(r.to)])
    .where('date_updated', '>', Date.now() - MATCH_WINDOW_MS)
    // Not one whose submit was answered: those are matched by id.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('messaging_parts')
            .select('carrier_id')
            .whereRef('messaging_parts.message_sid', '=', 'messaging_messages.sid'),
        ),
      ),
    )
    .orderBy('date_created')
    .limit(50)
    .execute();
  const shown = r.text ?? '';
  const match = candidates.find((c) => c.body.startsWith(shown));
  if (!match) return undefined;
  const { body: _body, ...rest } = match;
  return rest;
}
