import { describe, expect, it } from 'vitest';
import {
  DtmfReceiver,
  DtmfSender,
  parseDtmfInfo,
  parseTelephoneEvent,
  writeTelephoneEvent,
  type ReceivedDigit,
} from './dtmf.js';

const ev = (event: number, end: boolean, duration: number): Uint8Array => {
  const b = new Uint8Array(4);
  writeTelephoneEvent(b, 0, { event, end, volume: 10, duration });
  return b;
};

describe('RFC 4733 receiver', () => {
  it('reports a digit once despite three end packets (as sipp sends them)', () => {
    const got: ReceivedDigit[] = [];
    const rx = new DtmfReceiver((d) => got.push(d));
    let tick = 0;
    for (let d = 0; d <= 1920; d += 320) rx.onPacket(13280, ev(1, false, d), tick++);
    for (let i = 0; i < 3; i++) rx.onPacket(13280, ev(1, true, 2240), tick);
    for (let i = 0; i < 30; i++) rx.onTick(tick++);
    expect(got).toEqual([{ digit: '1', durationMs: 280 }]);
  });

  it('ends an event whose end packets were lost (next event or silence)', () => {
    const got: string[] = [];
    const rx = new DtmfReceiver((d) => got.push(d.digit));
    rx.onPacket(1000, ev(5, false, 160), 0);
    rx.onPacket(2000, ev(11, false, 160), 10); // '#' starts: '5' is over
    expect(got).toEqual(['5']);
    rx.onTick(20);
    expect(got).toEqual(['5']);
    rx.onTick(26);
    expect(got).toEqual(['5', '#']);
    rx.onPacket(2000, ev(11, true, 800), 27); // late end of an event already reported
    expect(got).toEqual(['5', '#']);
  });

  it('takes a replayed event with the same timestamp as a new digit when it starts with a marker', () => {
    const got: string[] = [];
    const rx = new DtmfReceiver((d) => got.push(d.digit));
    const play = (tick: number): void => {
      rx.onPacket(500, ev(3, false, 0), tick, true);
      rx.onPacket(500, ev(3, false, 320), tick + 1);
      for (let i = 0; i < 3; i++) rx.onPacket(500, ev(3, true, 640), tick + 2);
    };
    play(0);
    rx.onPacket(500, ev(3, false, 320), 3); // late middle packet: no new digit
    play(10);
    expect(got).toEqual(['3', '3']);
  });

  it('ignores short or unknown events', () => {
    const got: string[] = [];
    const rx = new DtmfReceiver((d) => got.push(d.digit));
    rx.onPacket(1, new Uint8Array(2), 0);
    rx.onPacket(2, ev(40, true, 800), 0);
    expect(got).toEqual([]);
  });
});

describe('RFC 4733 sender', () => {
  it('sends growing durations on one event, then the end bit three times and a gap', () => {
    const tx = new DtmfSender();
    let resolved = false;
    void tx.send('7', 100).then(() => (resolved = true));
    const packets = [];
    for (let i = 0; i < 8; i++) packets.push(tx.next());
    expect(packets.slice(0, 5).map((p) => p?.event.duration)).toEqual([160, 320, 480, 640, 800]);
    expect(packets[0]).toMatchObject({ marker: true, start: true, copies: 1 });
    expect(packets[1]).toMatchObject({ marker: false, start: false });
    expect(packets[4]).toMatchObject({ copies: 3, event: { end: true, event: 7, volume: 10 } });
    expect(packets.slice(5)).toEqual([undefined, undefined, undefined]);
    expect(tx.busy).toBe(false);
    return Promise.resolve().then(() => expect(resolved).toBe(true));
  });

  it('rejects what is not a digit', async () => {
    await expect(new DtmfSender().send('1x')).rejects.toThrow(/DTMF/);
  });

  it('round-trips the payload format', () => {
    expect(parseTelephoneEvent(ev(11, true, 1234))).toEqual({
      event: 11,
      end: true,
      volume: 10,
      duration: 1234,
    });
  });
});

describe('SIP INFO bodies', () => {
  it('reads application/dtmf-relay and application/dtmf', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({
      digit: '5',
      durationMs: 160,
    });
    expect(parseDtmfInfo('Application/DTMF-Relay', 'Signal= #\nDuration= 250')?.digit).toBe('#');
    expect(parseDtmfInfo('application/dtmf', '11')?.digit).toBe('#');
    expect(parseDtmfInfo('application/dtmf', '*')?.digit).toBe('*');
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=Z')).toBeUndefined();
    expect(parseDtmfInfo('text/plain', '5')).toBeUndefined();
  });
});
