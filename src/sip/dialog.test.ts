import { describe, expect, it } from 'vitest';
import { Dialog } from './dialog.js';
import type { SipRequest, SipResponse } from './message.js';
import { SipParseError, parseMessage } from './parser.js';

const peer = { transport: 'udp', address: '192.0.2.1', port: 5060 } as const;

function parse<T>(raw: string): T {
  const m = parseMessage(Buffer.from(raw.replace(/\n/g, '\r\n')));
  if (m instanceof SipParseError) throw new Error(m.message);
  return m as T;
}

const INVITE = `INVITE sip:bob@b.example SIP/2.0
Via: SIP/2.0/UDP p2.example;branch=z9hG4bK2
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>
From: <sip:alice@a.example>;tag=a1
To: <sip:bob@b.example>
Call-ID: d1
CSeq: 7 INVITE
Contact: <sip:alice@198.51.100.7:5070>
Content-Length: 0

`;

describe('Dialog', () => {
  it('UAS: route set in Record-Route order, remote target from Contact, CSeq checks', () => {
    const req = parse<SipRequest>(INVITE);
    const d = Dialog.fromRequest(req, 'b1', peer, '<sip:192.0.2.9:5060>', 'SB');
    expect(d.id).toBe('d1|b1|a1');
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:alice@198.51.100.7:5070');
    expect(bye.headers.getAll('route')).toEqual(['<sip:p2.example;lr>', '<sip:p1.example;lr>']);
    expect(bye.from.params.tag).toBe('b1');
    expect(bye.to.params.tag).toBe('a1');
    expect(bye.cseq).toEqual({ seq: 1, method: 'BYE' });
    expect(d.acceptRemoteSeq({ ...req, method: 'INFO', cseq: { seq: 8, method: 'INFO' } })).toBe(
      true,
    );
    expect(d.acceptRemoteSeq({ ...req, method: 'INFO', cseq: { seq: 3, method: 'INFO' } })).toBe(
      false,
    );
  });

  it('UAC: route set reversed from the 2xx, strict router in the Request-URI', () => {
    const req = parse<SipRequest>(
      INVITE.replace('Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>\n', ''),
    );
    const res = parse<SipResponse>(
      `SIP/2.0 200 OK
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
Record-Route: <sip:p2.example;lr>
Record-Route: <sip:p1.example>
From: <sip:alice@a.example>;tag=a1
To: <sip:bob@b.example>;tag=b9
Call-ID: d1
CSeq: 7 INVITE
Contact: <sip:bob@203.0.113.5>
Content-Length: 0

`,
    );
    const d = Dialog.fromResponse(req, res, peer, '<sip:a.example>', 'SB');
    expect(d.state).toBe('confirmed');
    // Reversed: p1 (strict, no lr) first, so it goes in the Request-URI.
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:p1.example');
    expect(bye.headers.getAll('route')).toEqual(['<sip:p2.example;lr>', '<sip:bob@203.0.113.5>']);
    expect(bye.cseq.seq).toBe(8);
    expect(d.createRequest('ACK').cseq).toEqual({ seq: 7, method: 'ACK' });
  });
});
