// A small SMSC for tests and benchmarks, on the `smpp` package's server mode: it binds
// transceivers, answers submit_sm (or throttles, rejects, fails or stays silent as configured),
// sends delivery receipts, and can originate MO messages.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type Server, type Session } from 'smpp';
import { decodeText, readUdh } from '../../src/messaging/encoding.js';
import { ESME } from '../../src/messaging/carriers/smpp/status.js';

export interface SmscBehaviour {
  systemId: string;
  password: string;
  /** submit_sm accepted per second (sliding second); beyond it ESME_RTHROTTLED. 0 = no limit. */
  maxPerSecond: number;
  /** Destinations starting with one of these are refused with ESME_RINVDSTADR. */
  rejectPrefixes: string[];
  /** Destinations starting with one of these get an UNDELIV receipt. */
  undeliverablePrefixes: string[];
  /** Every Nth submit_sm answers ESME_RSYSERR (transient); 0 = never. */
  failEvery: number;
  /** Never answer submit_sm (the client sees an unknown outcome). */
  silent: boolean;
  receipts: boolean;
  receiptDelayMs: number;
  /** submit_sm_resp is sent this long after the submit_sm (a slow SMSC; 0 = at once). */
  responseDelayMs: number;
}

export interface Submitted {
  readonly systemId: string;
  /** Which connection it came on (numbered from 1 in order of connection). */
  readonly session: number;
  readonly messageId: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly dataCoding: number;
  readonly concat?: { ref: number; total: number; seq: number };
  readonly at: number;
}

export class TestSmsc {
  readonly submits: Submitted[] = [];
  readonly behaviour: SmscBehaviour;
  private server: Server | undefined;
  private readonly sessions = new Set<Session>();
  private readonly bound = new Set<Session>();
  private recent: number[] = [];
  private pendingReceipts: { systemId: string; fields: Record<string, unknown> }[] = [];
  private count = 0;
  private timers = new Set<NodeJS.Timeout>();
  /** submit_sm not yet answered, per session, and the most seen at once on one session. */
  private readonly unansweredSubmits = new Map<Session, number>();
  private readonly sessionNumbers = new Map<Session, number>();
  private connections = 0;
  maxOutstanding = 0;
  port = 0;

  constructor(behaviour: Partial<SmscBehaviour> = {}) {
    this.behaviour = {
      systemId: 'test',
      password: 'secret',
      maxPerSecond: 0,
      rejectPrefixes: [],
      undeliverablePrefixes: [],
      failEvery: 0,
      silent: false,
      receipts: true,
      receiptDelayMs: 5,
      responseDelayMs: 0,
      ...behaviour,
    };
  }

  /** Listens on 127.0.0.1 (port 0 = any free port, or a given port to come back on). */
  async start(port = 0): Promise<number> {
    const server = smpp.createServer({}, (session) => this.onSession(session));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  boundSessions(): number {
    return this.bound.size;
  }

  /** Stops listening and drops every connection at once (an SMSC going down). */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    this.bound.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Sends an MO message to one bound ESME (one part of a concatenated one, with a UDH). */
  sendMo(
    from: string,
    to: string,
    text: string,
    concat?: { ref: number; total: number; seq: number },
  ): boolean {
    const session = [...this.bound][0];
    if (!session) return false;
    const ascii = /^[\x20-\x7e]*$/.test(text);
    const body = ascii ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf16le').swap16();
    const udh = concat
      ? Buffer.from([0x05, 0x00, 0x03, concat.ref, concat.total, concat.seq])
      : undefined;
    session.deliver_sm({
      source_addr: from.replace(/^\+/, ''),
      source_addr_ton: 1,
      destination_addr: to.replace(/^\+/, ''),
      dest_addr_ton: 1,
      esm_class: udh ? 0x40 : 0,
      data_coding: ascii ? 0x00 : 0x08,
      short_message: udh ? Buffer.concat([udh, body]) : body,
    });
    return true;
  }

  /** Submitted texts reassembled per concatenated message, in arrival order of their first part. */
  messages(): { to: string; from: string; text: string; systemId: string }[] {
    const out: { to: string; from: string; text: string; systemId: string; parts: string[] }[] = [];
    const byRef = new Map<string, (typeof out)[number]>();
    for (const s of this.submits) {
      if (!s.concat) {
        out.push({ to: s.to, from: s.from, text: s.text, systemId: s.systemId, parts: [] });
        continue;
      }
      const key = `${s.to}|${s.concat.ref}|${s.concat.total}`;
      let m = byRef.get(key);
      if (!m) {
        m = { to: s.to, from: s.from, text: '', systemId: s.systemId, parts: [] };
        byRef.set(key, m);
        out.push(m);
      }
      m.parts[s.concat.seq - 1] = s.text;
      m.text = m.parts.join('');
    }
    return out.map(({ to, from, text, systemId }) => ({ to, from, text, systemId }));
  }

  private readonly corkedSessions = new Set<Session>();

  /**
   * What is sent to a session in the same turn of the event loop leaves in one write, as a
   * busy SMSC's would (and as our client does), instead of one syscall per PDU.
   */
  private corked(session: Session): void {
    if (this.corkedSessions.has(session)) return;
    this.corkedSessions.add(session);
    session.socket.cork();
    process.nextTick(() => {
      this.corkedSessions.delete(session);
      session.socket.uncork();
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Receipts not answered with deliver_sm_resp before their session closes are kept. */
  private unanswered = new Map<
    Session,
    Map<number, { systemId: string; fields: Record<string, unknown> }>
  >();

  private deliverReceipt(
    session: Session,
    systemId: string,
    fields: Record<string, unknown>,
  ): void {
    if (!this.bound.has(session)) {
      this.pendingReceipts.push({ systemId, fields });
      return;
    }
    const waiting = this.unanswered.get(session) ?? new Map();
    this.unanswered.set(session, waiting);
    const pdu = new smpp.PDU('deliver_sm', { ...fields });
    this.corked(session);
    session.send(pdu, () => waiting.delete(pdu.sequence_number));
    waiting.set(pdu.sequence_number, { systemId, fields });
  }

  private onSession(session: Session): void {
    this.sessions.add(session);
    this.sessionNumbers.set(session, ++this.connections);
    session.socket.setNoDelay(true);
    session.on('error', () => undefined);
    session.on('close', () => {
      this.sessions.delete(session);
      this.sessionNumbers.delete(session);
      this.unansweredSubmits.delete(session);
      this.bound.delete(session);
      const waiting = this.unanswered.get(session);
      this.unanswered.delete(session);
      if (waiting) for (const r of waiting.values()) this.pendingReceipts.push(r);
    });
    let systemId = '';
    session.on('bind_transceiver', (pdu: PDU) => {
      if (pdu.system_id !== this.behaviour.systemId || pdu.password !== this.behaviour.password) {
        session.send(pdu.response({ command_status: ESME.RBINDFAIL }));
        return;
      }
      systemId = String(pdu.system_id);
      this.bound.add(session);
      const held = this.pendingReceipts.filter((r) => r.systemId === systemId);
      this.pendingReceipts = this.pendingReceipts.filter((r) => r.systemId !== systemId);
      setImmediate(() => {
        for (const r of held) this.deliverReceipt(session, systemId, r.fields);
      });
      session.send(pdu.response({ system_id: 'testsmsc' }));
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      this.bound.delete(session);
      session.close();
    });
    session.on('deliver_sm_resp', () => undefined);
    session.on('submit_sm', (pdu: PDU) => {
      const n = (this.unansweredSubmits.get(session) ?? 0) + 1;
      this.unansweredSubmits.set(session, n);
      this.maxOutstanding = Math.max(this.maxOutstanding, n);
      this.onSubmit(session, systemId, pdu);
    });
  }

  /** Answers a submit_sm (after responseDelayMs), then runs `then` (its receipt). */
  private answer(session: Session, resp: PDU, then?: () => void): void {
    const send = () => {
      this.unansweredSubmits.set(session, (this.unansweredSubmits.get(session) ?? 1) - 1);
      this.corked(session);
      session.send(resp);
      then?.();
    };
    if (this.behaviour.responseDelayMs > 0) this.later(this.behaviour.responseDelayMs, send);
    else send();
  }

  private onSubmit(session: Session, systemId: string, pdu: PDU): void {
    const b = this.behaviour;
    if (!this.bound.has(session)) {
      this.answer(session, pdu.response({ command_status: ESME.RINVBNDSTS }));
      return;
    }
    if (b.silent) return;
    const now = Date.now();
    if (b.maxPerSecond > 0) {
      this.recent = this.recent.filter((t) => now - t < 1000);
      if (this.recent.length >= b.maxPerSecond) {
        this.answer(session, pdu.response({ command_status: ESME.RTHROTTLED }));
        return;
      }
      this.recent.push(now);
    }
    this.count++;
    if (b.failEvery > 0 && this.count % b.failEvery === 0) {
      this.answer(session, pdu.response({ command_status: ESME.RSYSERR }));
      return;
    }
    const to = String(pdu.destination_addr ?? '');
    if (b.rejectPrefixes.some((p) => to.startsWith(p.replace(/^\+/, '')))) {
      this.answer(session, pdu.response({ command_status: ESME.RINVDSTADR }));
      return;
    }
    const { text, concat } = submittedText(pdu);
    const messageId = randomBytes(8).toString('hex');
    this.submits.push({
      systemId,
      session: this.sessionNumbers.get(session) ?? 0,
      messageId,
      from: String(pdu.source_addr ?? ''),
      to,
      text,
      dataCoding: Number(pdu.data_coding ?? 0),
      ...(concat ? { concat } : {}),
      at: now,
    });
    const wantsReceipt = b.receipts && Number(pdu.registered_delivery ?? 0) & 0x01;
    // Like a real SMSC, the receipt never overtakes the submit_sm_resp.
    this.answer(
      session,
      pdu.response({ message_id: messageId }),
      wantsReceipt ? () => this.receiptLater(session, systemId, pdu, to, messageId) : undefined,
    );
  }

  private receiptLater(
    session: Session,
    systemId: string,
    pdu: PDU,
    to: string,
    messageId: string,
  ): void {
    const b = this.behaviour;
    const stat = b.undeliverablePrefixes.some((p) => to.startsWith(p.replace(/^\+/, '')))
      ? 'UNDELIV'
      : 'DELIVRD';
    this.later(b.receiptDelayMs, () => {
      const d = new Date().toISOString().replace(/[-T:]/g, '').slice(2, 12);
      const receipt = `id:${messageId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${d} done date:${d} stat:${stat} err:${stat === 'DELIVRD' ? '000' : '001'} text:`;
      const fields = {
        source_addr: to,
        destination_addr: String(pdu.source_addr ?? ''),
        esm_class: 0x04,
        data_coding: 0x00,
        short_message: Buffer.from(receipt, 'latin1'),
        receipted_message_id: messageId,
        message_state: stat === 'DELIVRD' ? 2 : 5,
      };
      // Like a real SMSC, keep receipts for an ESME that went away and deliver them on its next bind.
      this.deliverReceipt(session, systemId, fields);
    });
  }
}

/** Text and concatenation info of a submit_sm, whether the package decoded it or not. */
function submittedText(pdu: PDU): {
  text: string;
  concat?: { ref: number; total: number; seq: number };
} {
  const raw = pdu.short_message as unknown;
  const dc = Number(pdu.data_coding ?? 0);
  let concat: { ref: number; total: number; seq: number } | undefined;
  if (typeof pdu.sar_msg_ref_num === 'number') {
    concat = {
      ref: pdu.sar_msg_ref_num,
      total: Number(pdu.sar_total_segments),
      seq: Number(pdu.sar_segment_seqnum),
    };
  }
  if (Buffer.isBuffer(raw)) {
    if (Number(pdu.esm_class ?? 0) & 0x40) {
      const u = readUdh(raw);
      return {
        text: decodeText(u.body, dc),
        ...(u.concat ? { concat: u.concat } : concat ? { concat } : {}),
      };
    }
    return { text: decodeText(raw, dc), ...(concat ? { concat } : {}) };
  }
  if (raw && typeof raw === 'object' && 'message' in raw) {
    const r = raw as { message: unknown; udh?: Buffer[] };
    const ies = r.udh ?? [];
    if (ies.length) {
      const len = ies.reduce((n, ie) => n + ie.length, 0);
      concat = readUdh(Buffer.concat([Buffer.from([len]), ...ies])).concat ?? concat;
    }
    const m = r.message;
    const text = typeof m === 'string' ? m : Buffer.isBuffer(m) ? decodeText(m, dc) : '';
    return { text, ...(concat ? { concat } : {}) };
  }
  return { text: '' };
}
