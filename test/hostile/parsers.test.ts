// Hostile input to the parsers of outside input: each either parses it or refuses it with its
// own error (Twilio's TwiML codes, SdpParseError, RangeError for a PDU), within a bound of time,
// and never with a stack overflow or an error of another kind. Property-based with fast-check;
// SWITCHBOARD_FUZZ_RUNS raises the number of cases for a longer run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSdp, SdpParseError } from '../../src/media/sdp.js';
import { decodeDeliverSm, PduReader } from '../../src/messaging/carriers/smpp/pdu.js';
import { parseReceipt } from '../../src/messaging/carriers/smpp/status.js';
import { parseTwiml } from '../../src/voice/twiml/parse.js';
import { TwimlError } from '../../src/voice/twiml/errors.js';
import { fuzzRuns } from '../support/fuzz.js';

/** Parses, or refuses with a TwimlError (12100 malformed, 12200 invalid). */
function twimlOutcome(xml: string): 'parsed' | number {
  try {
    parseTwiml(xml);
    return 'parsed';
  } catch (e) {
    if (!(e instanceof TwimlError)) throw e;
    return e.code;
  }
}

const VERBS = [
  'Say',
  'Play',
  'Pause',
  'Gather',
  'Hangup',
  'Redirect',
  'Record',
  'Dial',
  'Number',
  'Client',
  'Conference',
  'Queue',
  'Enqueue',
  'Leave',
  'Reject',
  'Sip',
  'Stream',
  'prosody',
  'break',
  'emphasis',
  'say-as',
  'p',
  's',
  'sub',
  'phoneme',
  'lang',
  'w',
  'amazon:effect',
];
const ATTRS = [
  'loop',
  'length',
  'numDigits',
  'timeout',
  'method',
  'action',
  'input',
  'voice',
  'language',
  'rate',
  'pitch',
  'volume',
  'strength',
  'time',
  'level',
  'interpret-as',
  'alias',
];

/** TwiML-like trees: known and unknown tags, hostile attribute values and text. */
const node: fc.Memo<string> = fc.memo((depth) =>
  fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 30 }).map((t) => t.replace(/[<&]/g, '')),
    fc
      .tuple(
        fc.constantFrom(...VERBS),
        fc.dictionary(fc.constantFrom(...ATTRS), fc.string({ maxLength: 12 })),
        depth > 1 ? fc.array(node(depth - 1), { maxLength: 4 }) : fc.constant([]),
      )
      .map(([tag, attrs, kids]) => {
        const a = Object.entries(attrs)
          .map(([k, v]) => ` ${k}="${v.replace(/["<&]/g, '')}"`)
          .join('');
        return `<${tag}${a}>${kids.join('')}</${tag}>`;
      }),
  ),
);

describe('TwiML documents', () => {
  it('random TwiML and SSML trees parse or are refused with a TwiML error', () => {
    fc.assert(
      fc.property(fc.array(node(4), { maxLength: 6 }), (kids) => {
        const outcome = twimlOutcome(`<Response>${kids.join('')}</Response>`);
        // Parsed, or a Twilio TwiML code (12100 malformed, 12200 invalid, 13xxx a verb's own).
        expect(outcome === 'parsed' || (outcome >= 12100 && outcome < 14000), String(outcome)).toBe(
          true,
        );
      }),
      { numRuns: fuzzRuns(400) },
    );
  });

  it('deep nesting is refused, not a stack overflow', () => {
    for (const depth of [1_000, 20_000]) {
      const xml = `<Response>${'<Gather>'.repeat(depth)}${'</Gather>'.repeat(depth)}</Response>`;
      expect(typeof twimlOutcome(xml)).toBe('number');
      const ssml = `<Response><Say>${'<prosody>'.repeat(depth)}x${'</prosody>'.repeat(depth)}</Say></Response>`;
      const started = Date.now();
      twimlOutcome(ssml); // may parse (SSML nests); it must not throw anything else
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it('a document as large as a webhook may answer (1 MB) parses in bounded time', () => {
    const say = '<Say>Hello there, this is a long document.</Say>';
    const xml = `<Response>${say.repeat(Math.floor(1_000_000 / say.length))}</Response>`;
    const started = Date.now();
    expect(twimlOutcome(xml)).toBe('parsed');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('entity expansion and external entities are refused', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' +
      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>' +
      '<Response><Say>&d;&d;&d;&d;</Say></Response>';
    expect(twimlOutcome(laughs)).toBe(12100);
    const external =
      '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><Say>&x;</Say></Response>';
    expect(twimlOutcome(external)).toBe(12100);
    // Undeclared entities are not expanded either.
    expect(typeof twimlOutcome('<Response><Say>&unknown;</Say></Response>')).not.toBe('undefined');
  });

  it('documents in a wrong namespace, or without <Response>, are refused', () => {
    expect(twimlOutcome('<x:Response xmlns:x="urn:evil"><x:Say>hi</x:Say></x:Response>')).toBe(
      12100,
    );
    expect(twimlOutcome('<html><body>Not TwiML</body></html>')).toBe(12100);
    expect(twimlOutcome('{"Say":"json"}')).toBe(12100);
    expect(twimlOutcome('')).toBe(12100);
  });
});

describe('SDP', () => {
  it('random and oversized SDP parses or is refused with SdpParseError', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .tuple(fc.constantFrom(...'vosctmabiuepkrz'), fc.string({ maxLength: 200 }))
        .map(([k, v]) => `${k}=${v}`),
      fc.constantFrom('m=audio 0 RTP/AVP 0', 'm=audio 99999999 RTP/AVP', 'c=IN IP4 ', 'a=rtpmap:'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), (lines) => {
        try {
          parseSdp(['v=0', ...lines].join('\r\n'));
        } catch (e) {
          expect(e).toBeInstanceOf(SdpParseError);
        }
      }),
      { numRuns: fuzzRuns(1000) },
    );
    const huge = `v=0\r\n${'a=x\r\n'.repeat(200_000)}`;
    try {
      parseSdp(huge);
    } catch (e) {
      expect(e).toBeInstanceOf(SdpParseError);
    }
  });
});

describe('SMPP from a carrier', () => {
  /** A deliver_sm header (16 bytes) over the given body. */
  const pdu = (body: Uint8Array) => {
    const b = Buffer.alloc(16 + body.length);
    b.writeUInt32BE(b.length, 0);
    b.writeUInt32BE(0x00000005, 4);
    b.writeUInt32BE(1, 12);
    Buffer.from(body).copy(b, 16);
    return b;
  };

  it('deliver_sm bodies of any bytes decode or are refused with a RangeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (body) => {
        try {
          const d = decodeDeliverSm(pdu(body));
          expect(d.message.length).toBeLessThanOrEqual(body.length);
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });

  it('unknown TLVs and TLVs with wrong lengths are skipped or refused', () => {
    const mandatory = Buffer.from(
      '\0\x01\x01123\0\x01\x01456\0\x04\0\0\0\0\0\0\0\0\x02hi',
      'latin1',
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 0xffff }),
            fc.uint8Array({ maxLength: 40 }),
            fc.integer({ min: 0, max: 0xffff }),
          ),
          { maxLength: 8 },
        ),
        (tlvs) => {
          const parts = tlvs.map(([tag, value, claimed]) => {
            const head = Buffer.alloc(4);
            head.writeUInt16BE(tag, 0);
            head.writeUInt16BE(claimed % 3 === 0 ? value.length : claimed, 2);
            return Buffer.concat([head, Buffer.from(value)]);
          });
          try {
            decodeDeliverSm(pdu(Buffer.concat([mandatory, ...parts])));
          } catch (e) {
            expect(e).toBeInstanceOf(RangeError);
          }
        },
      ),
      { numRuns: fuzzRuns(1000) },
    );
  });

  it('a byte stream with wrong command lengths is cut into PDUs or refused with a RangeError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const reader = new PduReader();
        try {
          for (const c of chunks) {
            for (const p of reader.push(Buffer.from(c))) {
              expect(p.length).toBeGreaterThanOrEqual(16);
              expect(p.readUInt32BE(0)).toBe(p.length);
            }
          }
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: fuzzRuns(2000) },
    );
  });

  it('malformed delivery receipts never throw', () => {
    const field = fc.constantFrom(
      'id:',
      'sub:',
      'dlvrd:',
      'submit date:',
      'done date:',
      'stat:',
      'err:',
      'text:',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(field, fc.string({ maxLength: 20 })), { maxLength: 20 }),
        fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
        fc.option(fc.integer({ min: -1, max: 300 }), { nil: undefined }),
        (parts, receiptedMessageId, messageState) => {
          parseReceipt(parts.join(' '), {
            ...(receiptedMessageId !== undefined ? { receiptedMessageId } : {}),
            ...(messageState !== undefined ? { messageState } : {}),
          });
        },
      ),
      { numRuns: fuzzRuns(2000) },
    );
  });
});
