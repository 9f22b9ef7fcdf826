// Our codec of the hot PDUs checked against the `smpp` package's own: what we write it reads
// back field for field, and what it writes we read the same.
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import {
  DELIVER_SM_RESP,
  PduReader,
  decodeDeliverSm,
  decodeSubmitSmResp,
  encodeDeliverSmResp,
  encodeSubmitSm,
} from './pdu.js';

describe('hot-path PDUs', () => {
  it('writes submit_sm as the package reads it, with SAR TLVs', () => {
    const payload = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x48, 0x69]);
    const buf = encodeSubmitSm(77, {
      sourceAddr: 'ACME',
      sourceTon: 5,
      sourceNpi: 0,
      destinationAddr: '447700900123',
      destTon: 1,
      destNpi: 1,
      esmClass: 0x40,
      registeredDelivery: 1,
      dataCoding: 0x08,
      validityPeriod: '000001020304000R',
      shortMessage: payload,
      sar: { ref: 0x1234, total: 2, seq: 1 },
    });
    expect(buf.readUInt32BE(0)).toBe(buf.length);
    const pdu = new smpp.PDU(buf);
    expect(pdu).toMatchObject({
      command: 'submit_sm',
      sequence_number: 77,
      service_type: '',
      source_addr_ton: 5,
      source_addr: 'ACME',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      esm_class: 0x40,
      registered_delivery: 1,
      data_coding: 0x08,
      sar_msg_ref_num: 0x1234,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    });
    // The package splits the UDH off for esm_class 0x40.
    const sm = pdu.short_message as { udh: Buffer[]; message: unknown };
    expect(Buffer.concat(sm.udh)).toEqual(payload.subarray(1, 6));
    expect(() =>
      encodeSubmitSm(1, {
        sourceAddr: '1',
        sourceTon: 1,
        sourceNpi: 1,
        destinationAddr: '2',
        destTon: 1,
        destNpi: 1,
        esmClass: 0,
        registeredDelivery: 0,
        dataCoding: 0,
        validityPeriod: '',
        shortMessage: Buffer.alloc(255),
      }),
    ).toThrow(RangeError);
  });

  it('reads deliver_sm receipts and MO as the package writes them', () => {
    const receipt = new smpp.PDU('deliver_sm', {
      sequence_number: 9,
      source_addr: '447700900123',
      source_addr_ton: 1,
      destination_addr: '15550001',
      esm_class: 0x04,
      data_coding: 0,
      short_message: Buffer.from('id:abc sub:001 dlvrd:001 stat:DELIVRD err:000 text:', 'latin1'),
      receipted_message_id: 'abc',
      message_state: 2,
    }) as unknown as { toBuffer(): Buffer };
    const d = decodeDeliverSm(receipt.toBuffer());
    expect(d).toMatchObject({
      sequence: 9,
      sourceAddr: '447700900123',
      sourceTon: 1,
      destinationAddr: '15550001',
      esmClass: 4,
      dataCoding: 0,
      receiptedMessageId: 'abc',
      messageState: 2,
    });
    expect(d.message.toString('latin1')).toMatch(/^id:abc .*stat:DELIVRD/);
    const payload = new smpp.PDU('deliver_sm', {
      source_addr: '1',
      destination_addr: '2',
      data_coding: 8,
      message_payload: Buffer.from('long MO body', 'latin1'),
      sar_msg_ref_num: 5,
      sar_total_segments: 3,
      sar_segment_seqnum: 2,
    }) as unknown as { toBuffer(): Buffer };
    const m = decodeDeliverSm(payload.toBuffer());
    expect(m.message.toString('latin1')).toBe('long MO body');
    expect(m.sar).toEqual({ ref: 5, total: 3, seq: 2 });
    // A PDU cut short inside its fields is refused, not read past its end.
    expect(() => decodeDeliverSm(receipt.toBuffer().subarray(0, 30))).toThrow(RangeError);
  });

  it('reads submit_sm_resp (with or without a body) and writes deliver_sm_resp', () => {
    const ok = new smpp.PDU('submit_sm_resp', {
      sequence_number: 3,
      message_id: 'xyz',
    }) as unknown as {
      toBuffer(): Buffer;
    };
    expect(decodeSubmitSmResp(ok.toBuffer())).toEqual({ status: 0, sequence: 3, messageId: 'xyz' });
    const err = new smpp.PDU('submit_sm_resp', {
      sequence_number: 4,
      command_status: 0x58,
    }) as unknown as { toBuffer(): Buffer };
    expect(decodeSubmitSmResp(err.toBuffer())).toEqual({
      status: 0x58,
      sequence: 4,
      messageId: '',
    });
    const resp = new smpp.PDU(encodeDeliverSmResp(12));
    expect(resp).toMatchObject({
      command: 'deliver_sm_resp',
      command_id: DELIVER_SM_RESP,
      sequence_number: 12,
      command_status: 0,
    });
  });

  it('cuts a byte stream into PDUs whatever the chunking, and refuses impossible lengths', () => {
    const a = encodeDeliverSmResp(1);
    const b = encodeDeliverSmResp(2);
    const stream = Buffer.concat([a, b, a]);
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new PduReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(got.map((p) => p.readUInt32BE(12))).toEqual([1, 2, 1]);
    }
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(5, 0);
    expect(() => new PduReader().push(bad)).toThrow(/PDU length 5/);
  });
});
