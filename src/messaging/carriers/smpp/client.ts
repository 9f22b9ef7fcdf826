// A typed SMPP 3.4 client over the npm `smpp` package, adding what it lacks: several binds per
// provider, a window of outstanding submit_sm per bind, response timeouts, enquire_link
// supervision, reconnect with backoff, TCP_NODELAY, data_coding 0x00 for GSM-7, and long
// messages split into concatenated parts (UDH or SAR).
import { EventEmitter } from 'node:events';
import smpp, { type PDU, type Session } from 'smpp';
import type { Carrier, CarrierEvents, CarrierState, InboundSms, OutboundSms } from '../carrier.js';
import {
  decodeText,
  readUdh,
  toParts,
  type ConcatInfo,
  type Concatenation,
} from '../../encoding.js';
import {
  DELIVER_SM,
  ESME_RINVCMDID,
  ESME_RINVCMDLEN,
  GENERIC_NACK,
  PduBodyError,
  PduReader,
  SUBMIT_SM_RESP,
  decodeDeliverSm,
  encodeGenericNack,
  decodeSubmitSmResp,
  encodeDeliverSmResp,
  encodeSubmitSm,
  type DeliverSm,
  type SubmitSm,
} from './pdu.js';
import { receiptKeys, submittedKey, type MessageIdFormat } from './message-id.js';
import { ESME, SubmitError, classifyStatus, parseReceipt } from './status.js';

export interface SmppSettings {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly systemType?: string;
  /** Number of transceiver binds to keep open (default 1). */
  readonly binds?: number;
  /** Outstanding submit_sm per bind (default 10). */
  readonly window?: number;
  /** Bound on waiting for any response (default 10 s). */
  readonly responseTimeoutMs?: number;
  /** enquire_link period (default 30 s). */
  readonly enquireLinkMs?: number;
  readonly concatenation?: Concatenation;
  /** Reconnect backoff: first delay and cap (default 250 ms .. 15 s). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Source TON/NPI for alphanumeric senders are chosen automatically. */
  readonly registeredDelivery?: boolean;
  /**
   * How the SMSC writes its message ids in submit_sm_resp and in receipts (as Kannel's
   * msg-id-type); absent: the common mismatches are matched by themselves (message-id.ts).
   */
  readonly messageIds?: MessageIdFormat;
}

/** Settings with their defaults filled in. */
type Resolved = Required<Omit<SmppSettings, 'systemType' | 'messageIds'>> & {
  systemType: string;
  messageIds?: MessageIdFormat;
};

interface Outstanding {
  readonly timer: NodeJS.Timeout;
  readonly resolve: (messageId: string) => void;
  readonly reject: (e: SubmitError) => void;
}

/** Every command id SMPP 3.4 defines (§5.1.2.1), requests and responses. */
const KNOWN = new Set(
  [
    0x00000001, 0x00000002, 0x00000003, 0x00000004, 0x00000005, 0x00000006, 0x00000007, 0x00000008,
    0x00000009, 0x0000000b, 0x00000015, 0x00000021, 0x00000102, 0x00000103,
  ]
    .flatMap((id) => [id, (id | 0x80000000) >>> 0])
    .concat(0x80000000),
);

/** A generic_nack answering one of our submits: its status is the reason. */
function nackOf(frame: Buffer): { status: number; sequence: number; messageId: string } {
  return {
    status: frame.readUInt32BE(8) || ESME.RSYSERR,
    sequence: frame.readUInt32BE(12),
    messageId: '',
  };
}

type BindState = 'connecting' | 'bound' | 'backoff' | 'stopped';

/** One TCP connection with one transceiver bind. */
class Bind {
  session: Session | undefined;
  state: BindState = 'backoff';
  outstanding = new Map<number, Outstanding>();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private corked: Session | undefined;
  private enquireTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: SmppClient,
    private readonly s: Resolved,
  ) {}

  connect(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    const session = smpp.connect({ host: this.s.host, port: this.s.port });
    this.session = session;
    session.socket.setNoDelay(true);
    session.socket.setTimeout(this.s.responseTimeoutMs * 2 + this.s.enquireLinkMs);
    session.socket.on('timeout', () => this.lost(session, 'socket idle timeout'));
    session.on('error', (e: Error) => this.lost(session, e.message));
    session.on('close', () => this.lost(session, 'connection closed'));
    session.on('connect', () => {
      session.socket.setNoDelay(true);
      const timer = setTimeout(
        () => this.lost(session, 'bind timed out'),
        this.s.responseTimeoutMs,
      );
      session.bind_transceiver(
        { system_id: this.s.systemId, password: this.s.password, system_type: this.s.systemType },
        (pdu) => {
          clearTimeout(timer);
          if (this.session !== session) return;
          if (pdu.command_status !== 0) {
            this.lost(session, `bind refused with 0x${pdu.command_status.toString(16)}`);
            return;
          }
          this.state = 'bound';
          this.attempt = 0;
          this.enquireTimer = setInterval(() => this.enquire(session), this.s.enquireLinkMs);
          this.client.bindChanged();
        },
      );
    });
    // The hot PDUs are read here (pdu.ts); the others are handed to the package as it would.
    const socket = session.socket;
    for (const l of socket.listeners('readable')) {
      socket.removeListener('readable', l as (...args: unknown[]) => void);
    }
    const reader = new PduReader();
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        // A length outside the protocol's: the stream cannot be cut into PDUs any more. Say so
        // (generic_nack, ESME_RINVCMDLEN) and bind again on a fresh connection.
        const sequence = chunk.length >= 16 ? chunk.readUInt32BE(12) : 0;
        // Written at once, not batched: the connection is closed right after.
        session.socket.write(encodeGenericNack(sequence, ESME_RINVCMDLEN));
        this.lost(session, (e as Error).message);
        return;
      }
      for (const frame of frames) {
        if (this.session !== session) return;
        try {
          this.onPdu(session, frame);
        } catch (e) {
          this.lost(
            session,
            `malformed PDU 0x${frame.readUInt32BE(4).toString(16)}: ${(e as Error).message}`,
          );
          return;
        }
      }
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      this.lost(session, 'SMSC unbound');
    });
  }

  private onPdu(session: Session, frame: Buffer): void {
    const id = frame.readUInt32BE(4);
    if (
      id === SUBMIT_SM_RESP ||
      (id === GENERIC_NACK && this.outstanding.has(frame.readUInt32BE(12)))
    ) {
      const resp = id === SUBMIT_SM_RESP ? decodeSubmitSmResp(frame) : nackOf(frame);
      const o = this.outstanding.get(resp.sequence);
      if (!o) return; // timed out already
      clearTimeout(o.timer);
      this.outstanding.delete(resp.sequence);
      if (resp.status === 0) o.resolve(resp.messageId);
      else if (id === GENERIC_NACK) {
        // The SMSC could not read the submit, so it did not take it: sending it again is safe.
        const hex = `0x${resp.status.toString(16).padStart(8, '0')}`;
        o.reject(
          new SubmitError('transient', resp.status, `SMSC answered generic_nack ${hex}`, 30008),
        );
      } else o.reject(classifyStatus(resp.status));
      this.client.bindChanged();
    } else if (id === DELIVER_SM) {
      let d: DeliverSm;
      try {
        d = decodeDeliverSm(frame);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        // A deliver_sm whose body cannot be read is answered with its error (SMPP 3.4 §2.9: a
        // request's own response carries body errors), and the bind goes on serving.
        const status = e instanceof PduBodyError ? e.status : ESME_RINVCMDLEN;
        this.client.log(`undecodable deliver_sm answered 0x${status.toString(16)}: ${e.message}`);
        this.write(session, encodeDeliverSmResp(frame.readUInt32BE(12), status));
        return;
      }
      // A receipt is answered once the platform has recorded it, so that an SMSC keeps (and
      // re-sends) receipts a crashed platform never stored; MO messages are answered at once.
      let answered = false;
      const answer = () => {
        if (answered || this.session !== session) return;
        answered = true;
        this.write(session, encodeDeliverSmResp(d.sequence));
      };
      if (!this.client.delivered(d, answer)) answer();
    } else if (!KNOWN.has(id)) {
      // A command id SMPP 3.4 does not define: a request gets generic_nack ESME_RINVCMDID
      // (§2.9); an unknown response answers nothing of ours and is dropped.
      if ((id & GENERIC_NACK) === 0) {
        this.write(session, encodeGenericNack(frame.readUInt32BE(12), ESME_RINVCMDID));
      }
      this.client.log(`unknown command id 0x${id.toString(16).padStart(8, '0')} from the SMSC`);
    } else {
      // What the package's own reader would do with it.
      let pdu: PDU;
      try {
        pdu = new smpp.PDU(frame);
      } catch (e) {
        if ((id & GENERIC_NACK) === 0) {
          this.write(session, encodeGenericNack(frame.readUInt32BE(12), ESME_RINVCMDLEN));
        }
        this.client.log(`undecodable PDU 0x${id.toString(16)}: ${(e as Error).message}`);
        return;
      }
      session.emit('pdu', pdu);
      session.emit(pdu.command, pdu);
      const callbacks = session._callbacks;
      const cb = pdu.isResponse() ? callbacks[pdu.sequence_number] : undefined;
      if (cb) {
        delete callbacks[pdu.sequence_number];
        cb(pdu);
      }
    }
  }

  /**
   * Writes a PDU; those written in the same turn of the event loop leave in one write (one
   * syscall and, with TCP_NODELAY, as few segments as their size needs) instead of one each.
   */
  private write(session: Session, pdu: Buffer): boolean {
    const socket = session.socket;
    if (!socket.writable) return false;
    if (this.corked !== session) {
      this.corked = session;
      socket.cork();
      process.nextTick(() => {
        this.corked = undefined;
        socket.uncork();
      });
    }
    socket.write(pdu);
    return true;
  }

  /** The session's next sequence number, counted as the package counts its own. */
  private nextSequence(session: Session): number {
    if (session.sequence >= 0x7fffffff) session.sequence = 0;
    return ++session.sequence;
  }

  private enquire(session: Session): void {
    const timer = setTimeout(
      () => this.lost(session, 'enquire_link unanswered'),
      this.s.responseTimeoutMs,
    );
    session.enquire_link({}, () => clearTimeout(timer));
  }

  /** The connection is gone: fail what is outstanding as unknown outcome, reconnect later. */
  lost(session: Session, why: string): void {
    if (this.session !== session) return;
    this.session = undefined;
    clearInterval(this.enquireTimer);
    session.destroy();
    for (const [, o] of this.outstanding) {
      clearTimeout(o.timer);
      o.reject(new SubmitError('unknown', 0, `no submit_sm_resp: ${why}`, 30008));
    }
    this.outstanding.clear();
    if (this.state === 'stopped') return;
    this.state = 'backoff';
    const base = Math.min(this.s.reconnectMaxMs, this.s.reconnectMinMs * 2 ** this.attempt++);
    const delay = base / 2 + Math.random() * (base / 2);
    this.client.log(`bind lost (${why}); reconnecting in ${Math.round(delay)} ms`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.client.bindChanged();
  }

  free(): number {
    return this.state === 'bound' ? this.s.window - this.outstanding.size : 0;
  }

  /** Sends one submit_sm; the caller has checked free() > 0. */
  submit(fields: SubmitSm): Promise<string> {
    const session = this.session;
    if (!session || this.state !== 'bound') {
      return Promise.reject(new SubmitError('transient', ESME.RINVBNDSTS, 'not bound', 30008));
    }
    return new Promise<string>((resolve, reject) => {
      const seq = this.nextSequence(session);
      if (!this.write(session, encodeSubmitSm(seq, fields))) {
        reject(new SubmitError('transient', ESME.RINVBNDSTS, 'socket not writable', 30008));
        return;
      }
      const timer = setTimeout(() => {
        this.outstanding.delete(seq);
        reject(
          new SubmitError('unknown', 0, 'no submit_sm_resp within the response timeout', 30008),
        );
        this.client.bindChanged();
      }, this.s.responseTimeoutMs);
      this.outstanding.set(seq, { timer, resolve, reject });
    });
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    clearInterval(this.enquireTimer);
    const session = this.session;
    if (!session) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.lost(session, 'stopped');
        resolve();
      };
      const t = setTimeout(done, 1000);
      session.unbind({}, () => {
        clearTimeout(t);
        done();
      });
    });
  }
}

const TON_ALPHANUMERIC = 0x05;
const TON_INTERNATIONAL = 0x01;
const NPI_ISDN = 0x01;

function address(a: string): { addr: string; ton: number; npi: number } {
  if (/^\+?\d+$/.test(a))
    return { addr: a.replace(/^\+/, ''), ton: TON_INTERNATIONAL, npi: NPI_ISDN };
  return { addr: a, ton: TON_ALPHANUMERIC, npi: 0 };
}

/** SMPP relative validity period: 000000SS0000R style "YYMMDDhhmmss000R". */
function relativeValidity(seconds: number): string {
  const s = Math.max(1, Math.floor(seconds));
  const dd = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return `0000${p(dd)}${p(hh)}${p(mm)}${p(ss)}000R`;
}

export class SmppClient extends EventEmitter<CarrierEvents> implements Carrier {
  readonly kind = 'smpp' as const;
  private readonly binds: Bind[];
  private readonly settings: Resolved;
  private waiters: (() => void)[] = [];
  private started = false;

  constructor(
    settings: SmppSettings,
    private readonly logger: (msg: string) => void = () => undefined,
  ) {
    super();
    this.settings = {
      binds: 1,
      window: 10,
      responseTimeoutMs: 10_000,
      enquireLinkMs: 30_000,
      concatenation: 'udh8',
      reconnectMinMs: 250,
      reconnectMaxMs: 15_000,
      registeredDelivery: true,
      systemType: '',
      ...settings,
    };
    this.binds = Array.from({ length: this.settings.binds }, () => new Bind(this, this.settings));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const b of this.binds) b.connect();
  }

  async stop(): Promise<void> {
    await Promise.all(this.binds.map((b) => b.stop()));
    for (const w of this.waiters.splice(0)) w();
  }

  /** @internal */ log(msg: string): void {
    this.logger(msg);
  }

  /** @internal a bind changed state or freed a window slot. */
  bindChanged(): void {
    while (this.waiters.length && this.capacity() > 0) this.waiters.shift()!();
    this.emit('state', this.state());
  }

  capacity(): number {
    return this.binds.reduce((n, b) => n + b.free(), 0);
  }

  isUp(): boolean {
    return this.binds.some((b) => b.state === 'bound');
  }

  state(): CarrierState {
    return {
      binds: this.binds.length,
      bound: this.binds.filter((b) => b.state === 'bound').length,
      outstanding: this.binds.reduce((n, b) => n + b.outstanding.size, 0),
      backingOff: this.binds.every((b) => b.state === 'backoff' || b.state === 'connecting'),
    };
  }

  /**
   * Sends one PDU on the bind with the most free window slots, waiting for a slot (bounded by
   * the response timeout). The slot is taken in the same synchronous step as it is found
   * (Bind.submit counts it before returning), so that submits started together never put more
   * than `window` on a bind.
   */
  private async submitPart(fields: SubmitSm): Promise<string> {
    const deadline = Date.now() + this.settings.responseTimeoutMs;
    for (;;) {
      let best: Bind | undefined;
      for (const b of this.binds) if (b.free() > 0 && (!best || b.free() > best.free())) best = b;
      if (best) return best.submit(fields);
      const left = deadline - Date.now();
      if (left <= 0 || !this.started) {
        throw new SubmitError(
          'transient',
          ESME.RINVBNDSTS,
          this.isUp() ? 'window full' : 'no bind is up',
          30008,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== wake);
          resolve();
        }, left);
        const wake = () => {
          clearTimeout(t);
          resolve();
        };
        this.waiters.push(wake);
      });
    }
  }

  async submit(sms: OutboundSms): Promise<string[]> {
    const parts = toParts(sms.body, sms.ref, this.settings.concatenation);
    const src = address(sms.from);
    const dst = address(sms.to);
    const ids: string[] = [];
    for (const part of parts) {
      const fields: SubmitSm = {
        sourceAddr: src.addr,
        sourceTon: src.ton,
        sourceNpi: src.npi,
        destinationAddr: dst.addr,
        destTon: dst.ton,
        destNpi: dst.npi,
        esmClass: part.udhi ? 0x40 : 0x00,
        dataCoding: part.dataCoding,
        registeredDelivery: this.settings.registeredDelivery ? 0x01 : 0x00,
        validityPeriod: sms.validitySeconds ? relativeValidity(sms.validitySeconds) : '',
        shortMessage: part.payload,
        ...(part.sar ? { sar: part.sar } : {}),
      };
      ids.push(submittedKey(await this.submitPart(fields), this.settings.messageIds));
    }
    return ids;
  }

  /**
   * @internal a deliver_sm arrived: a receipt or an MO message. Returns true when a receipt
   * listener took charge of answering (it calls `answer` once the receipt is stored).
   */
  delivered(d: DeliverSm, answer: () => void): boolean {
    const esm = d.esmClass;
    const { text, concat } = messageText(d);
    if ((esm & 0x3c) === 0x04 || (esm & 0x3c) === 0x08) {
      const receipt = parseReceipt(text, {
        ...(d.receiptedMessageId !== undefined ? { receiptedMessageId: d.receiptedMessageId } : {}),
        ...(d.messageState !== undefined ? { messageState: d.messageState } : {}),
      });
      if (!receipt) {
        this.log(`unparseable delivery receipt: ${text.slice(0, 80)}`);
        return false;
      }
      if (this.listenerCount('receipt') === 0) return false;
      const keys = receiptKeys(receipt.id, this.settings.messageIds);
      const to = withPlus(d.sourceAddr, d.sourceTon);
      this.emit('receipt', { ...receipt, id: keys[0]!, keys, to }, answer);
      return true;
    }
    const mo: InboundSms = {
      from: withPlus(d.sourceAddr, d.sourceTon),
      to: withPlus(d.destinationAddr, d.destTon),
      body: text,
    };
    if (concat) this.reassemble(mo, concat);
    else this.emit('inbound', mo);
    return false;
  }

  private partsInFlight = new Map<
    string,
    { parts: string[]; got: number; timer: NodeJS.Timeout }
  >();

  private reassemble(mo: InboundSms, c: { ref: number; total: number; seq: number }): void {
    const key = `${mo.from}|${mo.to}|${c.ref}|${c.total}`;
    let entry = this.partsInFlight.get(key);
    if (!entry) {
      const timer = setTimeout(() => this.partsInFlight.delete(key), 5 * 60_000);
      timer.unref();
      entry = { parts: new Array<string>(c.total).fill(''), got: 0, timer };
      this.partsInFlight.set(key, entry);
    }
    if (c.seq >= 1 && c.seq <= c.total && entry.parts[c.seq - 1] === '') {
      entry.parts[c.seq - 1] = mo.body;
      entry.got++;
    }
    if (entry.got === c.total) {
      clearTimeout(entry.timer);
      this.partsInFlight.delete(key);
      this.emit('inbound', { ...mo, body: entry.parts.join('') });
    }
  }
}

function withPlus(addr: string, ton: number): string {
  return ton === TON_INTERNATIONAL && /^\d+$/.test(addr) ? `+${addr}` : addr;
}

/** Text of a deliver_sm and its concatenation (UDH or SAR), if any. */
function messageText(d: DeliverSm): { text: string; concat?: ConcatInfo } {
  if (d.esmClass & 0x40) {
    const u = readUdh(d.message);
    const concat = u.concat ?? d.sar;
    return { text: decodeText(u.body, d.dataCoding), ...(concat ? { concat } : {}) };
  }
  const text = decodeText(d.message, d.dataCoding);
  return d.sar ? { text, concat: d.sar } : { text };
}
