// DTMF as RFC 4733 telephone-events (receive and send) and the SIP INFO fallback.
//
// Event payload (RFC 4733 §2.3): event(8) | E(1) R(1) volume(6) | duration(16). Every packet
// of one event carries the event's start timestamp; the duration grows; the last packet has
// the E bit and is sent three times. Senders (sipp among them) retransmit the end packet with
// the same sequence number, so the receiver keys events on the timestamp and reports a digit
// once, when its end is seen (or when a later event or a 300 ms silence shows it is over).

import { SAMPLES_PER_TICK } from './clock.js';

const DIGITS = '0123456789*#ABCD';

/** RFC 4733 §3.2 event code of a DTMF digit, or undefined. */
export function eventOfDigit(digit: string): number | undefined {
  if (digit.toLowerCase() === 'flash') return 16;
  const i = DIGITS.indexOf(digit.toUpperCase());
  return i < 0 || digit.length !== 1 ? undefined : i;
}

export function digitOfEvent(event: number): string | undefined {
  if (event === 16) return 'flash';
  return DIGITS[event];
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** In timestamp units (1/8000 s). */
  duration: number;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const flags = payload[1] ?? 0;
  return {
    event: payload[0] ?? 0,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: ((payload[2] ?? 0) << 8) | (payload[3] ?? 0),
  };
}

export function writeTelephoneEvent(buf: Uint8Array, offset: number, e: TelephoneEvent): number {
  buf[offset] = e.event & 0xff;
  buf[offset + 1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  const d = Math.min(e.duration, 0xffff);
  buf[offset + 2] = d >> 8;
  buf[offset + 3] = d & 0xff;
  return 4;
}

export interface ReceivedDigit {
  digit: string;
  durationMs: number;
}

/** Turns telephone-event packets into digits, once each. */
export class DtmfReceiver {
  private current:
    { timestamp: number; event: number; duration: number; lastTick: number } | undefined;
  private readonly finished: { timestamp: number; tick: number }[] = [];

  constructor(private readonly emit: (d: ReceivedDigit) => void) {}

  /**
   * Feed one telephone-event packet (RTP timestamp, marker bit, payload) at clock tick `tick`.
   * A packet of an event already reported is a retransmission, unless it carries the marker
   * bit of a new event start a while later (a sender replaying the same capture twice).
   */
  onPacket(timestamp: number, payload: Uint8Array, tick: number, marker = false): void {
    const e = parseTelephoneEvent(payload);
    if (!e || digitOfEvent(e.event) === undefined) return;
    const seen = this.finished.find((f) => f.timestamp === timestamp);
    if (seen && !(marker && !e.end && tick - seen.tick > 2)) return;
    if (seen) this.finished.splice(this.finished.indexOf(seen), 1);
    if (this.current && this.current.timestamp !== timestamp) this.finish();
    if (!this.current) this.current = { timestamp, event: e.event, duration: 0, lastTick: tick };
    this.current.duration = Math.max(this.current.duration, e.duration);
    this.current.lastTick = tick;
    if (e.end) this.finish();
  }

  /** Call every tick: ends an event whose end packets were all lost. */
  onTick(tick: number): void {
    if (this.current && tick - this.current.lastTick > 15) this.finish();
  }

  private finish(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    this.finished.push({ timestamp: c.timestamp, tick: c.lastTick });
    if (this.finished.length > 8) this.finished.shift();
    const digit = digitOfEvent(c.event);
    if (digit !== undefined) this.emit({ digit, durationMs: Math.round(c.duration / 8) });
  }
}

export interface DtmfPacket {
  marker: boolean;
  /** Timestamp offset relative to the event start, always 0: all packets share it. */
  event: TelephoneEvent;
  /** True for the first packet of an event (the session takes its timestamp then). */
  start: boolean;
  /** How many copies to send (3 for the end packet). */
  copies: number;
}

interface Pending {
  event: number;
  ticks: number;
  resolve: () => void;
}

/**
 * Schedules outgoing digits tick by tick: `next()` returns this tick's packet, or undefined
 * when audio should go out instead (between digits and when idle).
 */
export class DtmfSender {
  private readonly queue: Pending[] = [];
  private active: { p: Pending; tick: number } | undefined;
  private gap = 0;

  constructor(
    private readonly volume = 10,
    private readonly gapTicks = 3,
  ) {}

  get busy(): boolean {
    return this.active !== undefined || this.queue.length > 0;
  }

  /** Queues digits; resolves when the last one has been sent. Rejects unknown digits. */
  send(digits: string, durationMs = 100): Promise<void> {
    const events: number[] = [];
    for (const ch of digits) {
      const e = eventOfDigit(ch);
      if (e === undefined) return Promise.reject(new RangeError(`not a DTMF digit: "${ch}"`));
      events.push(e);
    }
    const ticks = Math.max(2, Math.round(durationMs / 20));
    if (events.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      events.forEach((event, i) => {
        this.queue.push({
          event,
          ticks,
          resolve: i === events.length - 1 ? resolve : () => undefined,
        });
      });
    });
  }

  next(): DtmfPacket | undefined {
    if (!this.active) {
      if (this.gap > 0) {
        this.gap--;
        return undefined;
      }
      const p = this.queue.shift();
      if (!p) return undefined;
      this.active = { p, tick: 0 };
    }
    const a = this.active;
    a.tick++;
    const end = a.tick >= a.p.ticks;
    const packet: DtmfPacket = {
      marker: a.tick === 1,
      start: a.tick === 1,
      copies: end ? 3 : 1,
      event: {
        event: a.p.event,
        end,
        volume: this.volume,
        duration: a.tick * SAMPLES_PER_TICK,
      },
    };
    if (end) {
      this.active = undefined;
      this.gap = this.gapTicks;
      a.p.resolve();
    }
    return packet;
  }

  /** Drops queued digits (session closing); their promises resolve. */
  clear(): void {
    for (const p of this.queue) p.resolve();
    this.queue.length = 0;
    this.active?.p.resolve();
    this.active = undefined;
  }
}

/**
 * Reads a SIP INFO DTMF body: `application/dtmf-relay` ("Signal=5\r\nDuration=160") or
 * `application/dtmf` ("5"). Returns undefined when the body carries no digit.
 */
export function parseDtmfInfo(
  contentType: string | undefined,
  body: Uint8Array | string,
): ReceivedDigit | undefined {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/dtmf-relay') {
    const signal = /^\s*signal\s*=\s*(\S+)/im.exec(text)?.[1];
    const duration = Number(/^\s*duration\s*=\s*(\d+)/im.exec(text)?.[1] ?? 250);
    if (signal === undefined) return undefined;
    const digit = signal === '16' ? 'flash' : signal.toUpperCase();
    if (eventOfDigit(digit) === undefined) return undefined;
    return { digit, durationMs: duration };
  }
  if (type === 'application/dtmf') {
    const raw = text.trim();
    const digit =
      /^\d+$/.test(raw) && Number(raw) >= 10 ? digitOfEvent(Number(raw)) : raw.toUpperCase();
    if (digit === undefined || eventOfDigit(digit) === undefined) return undefined;
    return { digit, durationMs: 250 };
  }
  return undefined;
}
