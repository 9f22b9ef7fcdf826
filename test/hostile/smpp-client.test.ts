// The SMPP client against an SMSC that sends what it should not: command ids SMPP does not
// define, deliver_sm bodies cut short or with TLVs claiming more than the PDU holds, and a
// command_length outside the protocol's. The SMSC here is raw bytes on a socket (no SMPP
// library at all), so nothing is smoothed over. Each PDU must get the answer SMPP 3.4 names —
// generic_nack ESME_RINVCMDID (0x03) for an unknown command, the deliver_sm_resp carrying
// ESME_RINVCMDLEN (0x02) or ESME_RINVTLVSTREAM (0xC0) for an unreadable body — and the bind must
// go on serving (an enquire_link answered on the same connection). Only a length that cannot be
// framed ends the connection, after a generic_nack 0x02; the client binds again.
import fc from 'fast-check';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmppClient } from '../../src/messaging/carriers/smpp/client.js';
import { fuzzRuns } from '../support/fuzz.js';

const BIND_TRANSCEIVER_RESP = 0x80000009;
const ENQUIRE_LINK = 0x00000015;
const ENQUIRE_LINK_RESP = 0x80000015;
const GENERIC_NACK = 0x80000000;
const DELIVER_SM = 0x00000005;
const DELIVER_SM_RESP = 0x80000005;
const DEFINED = new Set([
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x15, 0x21, 0x102, 0x103,
]);

function pdu(id: number, sequence: number, body: Uint8Array = new Uint8Array(), status = 0) {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(id >>> 0, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(sequence, 12);
  Buffer.from(body).copy(b, 16);
  return b;
}

/** deliver_sm mandatory fields (an MO "hi" from 123 to 456). */
const MANDATORY = Buffer.from('\0\x01\x01123\0\x01\x01456\0\x00\0\0\0\0\0\0\0\0\x02hi', 'latin1');

interface Answer {
  id: number;
  status: number;
  sequence: number;
}

/** An SMSC made of raw bytes: it binds whoever connects, and records what it is answered. */
class RawSmsc {
  readonly server: Server = createServer((s) => this.accept(s));
  connections = 0;
  socket: Socket | undefined;
  private buf = Buffer.alloc(0);
  private waiting: ((a: Answer) => void)[] = [];
  private answers: Answer[] = [];

  private accept(s: Socket): void {
    this.connections++;
    this.socket = s;
    this.buf = Buffer.alloc(0);
    s.on('error', () => undefined);
    s.on('data', (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 16 && this.buf.length >= this.buf.readUInt32BE(0)) {
        const len = this.buf.readUInt32BE(0);
        const frame = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        const a = {
          id: frame.readUInt32BE(4),
          status: frame.readUInt32BE(8),
          sequence: frame.readUInt32BE(12),
        };
        if (a.id === 0x00000009) {
          s.write(pdu(BIND_TRANSCEIVER_RESP, a.sequence, Buffer.from('raw\0', 'latin1')));
        } else if (a.id === ENQUIRE_LINK) {
          s.write(pdu(ENQUIRE_LINK_RESP, a.sequence));
        } else {
          const w = this.waiting.shift();
          if (w) w(a);
          else this.answers.push(a);
        }
      }
    });
  }

  /** The next PDU the client sends (other than bind and its own enquire_link). */
  next(ms = 5000): Promise<Answer> {
    const ready = this.answers.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer from the client')), ms);
      this.waiting.push((a) => {
        clearTimeout(t);
        resolve(a);
      });
    });
  }
}

let smsc: RawSmsc;
let client: SmppClient;
let port: number;
let seq = 1000;

beforeAll(async () => {
  smsc = new RawSmsc();
  await new Promise<void>((r) => smsc.server.listen(0, '127.0.0.1', () => r()));
  port = (smsc.server.address() as { port: number }).port;
  client = new SmppClient({
    host: '127.0.0.1',
    port,
    systemId: 'test',
    password: 'secret',
    binds: 1,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    responseTimeoutMs: 2000,
  });
  client.on('inbound', () => undefined);
  client.start();
  const end = Date.now() + 10_000;
  while (client.state().bound < 1) {
    if (Date.now() > end) throw new Error('no bind');
    await new Promise((r) => setTimeout(r, 25));
  }
});

afterAll(async () => {
  await client?.stop();
  smsc?.socket?.destroy();
  await new Promise<void>((r) => smsc.server.close(() => r()));
});

/** The bind still serves: an enquire_link from the SMSC is answered on the same connection. */
async function stillBound(connections: number): Promise<void> {
  const s = ++seq;
  smsc.socket!.write(pdu(ENQUIRE_LINK, s));
  // The client answers enquire_link through the package: wait for our own reader to see it.
  const end = Date.now() + 5000;
  for (;;) {
    const a = await smsc.next();
    if (a.id === ENQUIRE_LINK_RESP && a.sequence === s) break;
    if (Date.now() > end) throw new Error('enquire_link not answered');
  }
  expect(smsc.connections).toBe(connections);
}

describe('SMPP client: undecodable PDUs from the SMSC', { timeout: 300_000 }, () => {
  it('answers unknown command ids with generic_nack ESME_RINVCMDID and keeps the bind', async () => {
    const before = smsc.connections;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0x16, max: 0x7fffffff }).filter((id) => !DEFINED.has(id)),
        fc.uint8Array({ maxLength: 64 }),
        async (id, body) => {
          const s = ++seq;
          smsc.socket!.write(pdu(id, s, body));
          expect(await smsc.next()).toEqual({ id: GENERIC_NACK, status: 0x03, sequence: s });
        },
      ),
      { numRuns: fuzzRuns(60) },
    );
    // An unknown response answers nothing: no reply, and still bound.
    smsc.socket!.write(pdu(0x80000077, ++seq));
    await stillBound(before);
  });

  it('answers deliver_sm with a cut body or a broken TLV stream with the error in deliver_sm_resp', async () => {
    const before = smsc.connections;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // The mandatory fields cut anywhere before sm_length's octets end.
          fc
            .integer({ min: 0, max: MANDATORY.length - 1 })
            .map((n) => ({ body: MANDATORY.subarray(0, n), status: 0x02 })),
          // A TLV claiming more octets than the PDU has left.
          fc
            .tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 20 }))
            .map(([tag, v]) => {
              const head = Buffer.alloc(4);
              head.writeUInt16BE(tag, 0);
              head.writeUInt16BE(v.length + 1 + (tag % 50), 2);
              return { body: Buffer.concat([MANDATORY, head, v]), status: 0xc0 };
            }),
          // A TLV header of 1 to 3 octets.
          fc.uint8Array({ minLength: 1, maxLength: 3 }).map((t) => ({
            body: Buffer.concat([MANDATORY, t]),
            status: 0xc0,
          })),
        ),
        async ({ body, status }) => {
          const s = ++seq;
          smsc.socket!.write(pdu(DELIVER_SM, s, body));
          expect(await smsc.next()).toEqual({ id: DELIVER_SM_RESP, status, sequence: s });
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
    // A well-formed one after all that is taken as usual.
    const s = ++seq;
    smsc.socket!.write(pdu(DELIVER_SM, s, MANDATORY));
    expect(await smsc.next()).toEqual({ id: DELIVER_SM_RESP, status: 0, sequence: s });
    await stillBound(before);
  });

  it('answers a length the protocol does not allow with generic_nack ESME_RINVCMDLEN, then binds again', async () => {
    const before = smsc.connections;
    const bad = pdu(DELIVER_SM, ++seq);
    bad.writeUInt32BE(8, 0); // shorter than a header
    smsc.socket!.write(bad);
    expect(await smsc.next()).toMatchObject({ id: GENERIC_NACK, status: 0x02 });
    const end = Date.now() + 10_000;
    while (smsc.connections === before || client.state().bound < 1) {
      if (Date.now() > end) throw new Error('no new bind');
      await new Promise((r) => setTimeout(r, 25));
    }
    await stillBound(before + 1);
  });
});
