// SMPP command_status values and delivery-receipt states, and how each is classified.

export type FailureKind = 'permanent' | 'transient' | 'unknown';

/** A submit that did not succeed, classified so the worker knows to fail, retry or re-route. */
export class SubmitError extends Error {
  constructor(
    readonly kind: FailureKind,
    /** SMPP command_status, or 0 when no response came. */
    readonly status: number,
    message: string,
    /** The Twilio error code the message gets if this failure is final. */
    readonly twilioCode: number,
  ) {
    super(message);
    this.name = 'SubmitError';
  }
}

export const ESME = {
  ROK: 0x00,
  RINVMSGLEN: 0x01,
  RINVCMDLEN: 0x02,
  RINVCMDID: 0x03,
  RINVBNDSTS: 0x04,
  RALYBND: 0x05,
  RSYSERR: 0x08,
  RINVSRCADR: 0x0a,
  RINVDSTADR: 0x0b,
  RINVMSGID: 0x0c,
  RBINDFAIL: 0x0d,
  RINVPASWD: 0x0e,
  RINVSYSID: 0x0f,
  RMSGQFUL: 0x14,
  RSUBMITFAIL: 0x45,
  RTHROTTLED: 0x58,
  RX_T_APPN: 0x64,
  RX_P_APPN: 0x65,
  RX_R_APPN: 0x66,
} as const;

const TRANSIENT = new Set<number>([
  ESME.RINVBNDSTS,
  ESME.RSYSERR,
  ESME.RMSGQFUL,
  ESME.RSUBMITFAIL,
  ESME.RTHROTTLED,
  ESME.RX_T_APPN,
]);

/** Classifies a non-zero submit_sm_resp command_status. */
export function classifyStatus(status: number): SubmitError {
  const hex = `0x${status.toString(16).padStart(8, '0')}`;
  if (TRANSIENT.has(status)) {
    return new SubmitError('transient', status, `SMSC answered ${hex} (transient)`, 30008);
  }
  const code =
    status === ESME.RINVDSTADR
      ? 30005
      : status === ESME.RX_R_APPN
        ? 30007
        : status === ESME.RINVSRCADR
          ? 21606
          : 30008;
  return new SubmitError('permanent', status, `SMSC rejected the message with ${hex}`, code);
}

export type ReceiptStat =
  'DELIVRD' | 'EXPIRED' | 'DELETED' | 'UNDELIV' | 'ACCEPTD' | 'UNKNOWN' | 'REJECTD' | 'ENROUTE';

export interface Receipt {
  /** The SMSC's message id (from submit_sm_resp). */
  readonly id: string;
  /**
   * The ids of submitted parts this receipt may name, most likely first (message-id.ts: an
   * SMSC may write the id in another base, case or padding than in submit_sm_resp); absent:
   * `id` only.
   */
  readonly keys?: readonly string[];
  readonly stat: ReceiptStat;
  readonly err: string;
  readonly doneAt?: number;
  /**
   * The handset the message went to (the receipt's source address) and the first characters of
   * its text (the receipt's `text:` field, usually 20): what matches a receipt to a message
   * whose submit_sm_resp was never recorded (in doubt after a crash).
   */
  readonly to?: string;
  readonly text?: string;
}

const STATE_BY_TLV: Record<number, ReceiptStat> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
  // SMPP 5.0: not sent (e.g. a destination the SMSC skips).
  9: 'REJECTD',
};

/** The stat words SMSCs use besides the seven-letter ones of SMPP 3.4 Appendix B. */
const STAT_WORDS: Record<string, ReceiptStat> = {
  DELIVRD: 'DELIVRD',
  DELIVERED: 'DELIVRD',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIV: 'UNDELIV',
  UNDELIVERABLE: 'UNDELIV',
  UNDELIVERED: 'UNDELIV',
  ACCEPTD: 'ACCEPTD',
  ACCEPTED: 'ACCEPTD',
  UNKNOWN: 'UNKNOWN',
  REJECTD: 'REJECTD',
  REJECTED: 'REJECTD',
  ENROUTE: 'ENROUTE',
  BUFFRED: 'ENROUTE',
  BUFFERED: 'ENROUTE',
};

/** The text fields read from a receipt (compiled once: receipts come thousands a second). */
const FIELD = {
  id: /(?:^|\s)id:(\S*)/i,
  stat: /(?:^|\s)stat:(\S*)/i,
  err: /(?:^|\s)err:(\S*)/i,
};
const DONE_DATE = /done date:(\d{10,12})/i;
/** `text:` runs to the end of the receipt (it is the message's own text, spaces and all). */
const TEXT = /(?:^|\s)text:(.*)$/is;

/**
 * Parses a delivery receipt: the de-facto text format of SMPP 3.4 Appendix B
 * (`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`), with the
 * receipted_message_id / message_state TLVs taking precedence when present.
 */
export function parseReceipt(
  text: string,
  tlvs: { receiptedMessageId?: string; messageState?: number } = {},
): Receipt | undefined {
  const field = (name: keyof typeof FIELD) => FIELD[name].exec(text)?.[1];
  const id = tlvs.receiptedMessageId ?? field('id');
  const stateTlv = tlvs.messageState === undefined ? undefined : STATE_BY_TLV[tlvs.messageState];
  const word = field('stat')?.toUpperCase();
  const stat = stateTlv ?? (word === undefined ? undefined : (STAT_WORDS[word] ?? 'UNKNOWN'));
  if (!id || !stat) return undefined;
  const done = DONE_DATE.exec(text)?.[1];
  let doneAt: number | undefined;
  if (done) {
    const [yy, mo, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((i) =>
      Number(done.slice(i, i + 2) || '0'),
    );
    doneAt = Date.UTC(2000 + yy!, mo! - 1, dd, hh, mi, ss);
  }
  const shown = TEXT.exec(text)?.[1];
  return {
    id,
    stat,
    err: field('err') ?? '000',
    ...(doneAt ? { doneAt } : {}),
    ...(shown ? { text: shown } : {}),
  };
}

/**
 * Message status and Twilio error code a receipt state maps to. ENROUTE and ACCEPTD (accepted by
 * the network, as Kannel reads it: buffered) leave the message `sent`; the others are final.
 */
export function receiptOutcome(r: Receipt): {
  status: 'delivered' | 'undelivered' | 'sent';
  errorCode: number | null;
} {
  switch (r.stat) {
    case 'DELIVRD':
      return { status: 'delivered', errorCode: null };
    case 'ENROUTE':
    case 'ACCEPTD':
      return { status: 'sent', errorCode: null };
    case 'EXPIRED':
      return { status: 'undelivered', errorCode: 30003 };
    case 'REJECTD':
      return { status: 'undelivered', errorCode: 30007 };
    case 'DELETED':
      return { status: 'undelivered', errorCode: 30008 };
    case 'UNDELIV':
      return { status: 'undelivered', errorCode: 30003 };
    default:
      return { status: 'undelivered', errorCode: 30008 };
  }
}
