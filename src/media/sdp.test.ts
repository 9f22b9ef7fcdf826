import { describe, expect, it } from 'vitest';
import {
  answerOffer,
  createOffer,
  parseSdp,
  readAnswer,
  serializeSdp,
  type LocalMediaInfo,
} from './sdp.js';

// What `sipp -sn uac` sends (its built-in scenario).
const SIPP = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.1.1',
  's=-',
  'c=IN IP4 127.0.1.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

// sipp's uac_pcap scenario (PCMA pcap + RFC 2833 events).
const SIPP_PCAP = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-11,16',
  '',
].join('\r\n');

// baresip 1.x/2.x offer (opus first, several codecs, RTCP-mux, extmap), LF line ends.
const BARESIP = [
  'v=0',
  'o=- 1731234567 2890123456 IN IP4 192.168.1.20',
  's=-',
  'c=IN IP4 192.168.1.20',
  't=0 0',
  'm=audio 10002 RTP/AVP 96 97 9 0 8 101',
  'b=AS:128',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:97 G7221/16000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=rtcp-mux',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:1473893238 cname:4ad8f7b2-aa5d-4a21-b8a3-1f6b2b5c5d9e',
  'a=ptime:20',
  '',
].join('\n');

// Linphone-like: session-level c=, video stream we must refuse, PCMA preferred, dynamic TE PT.
const LINPHONE = [
  'v=0',
  'o=alice 3456 789 IN IP4 10.0.0.5',
  's=Talk',
  'c=IN IP4 10.0.0.5',
  'b=AS:380',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'm=audio 7078 RTP/AVP 96 8 0 97 98',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:97 telephone-event/48000',
  'a=rtpmap:98 telephone-event/8000',
  'a=rtcp-fb:* trr-int 1000',
  'm=video 9078 RTP/AVP 96',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

const local = (over: Partial<LocalMediaInfo> = {}): LocalMediaInfo => ({
  address: '203.0.113.7',
  port: 20000,
  codecs: ['PCMU', 'PCMA'],
  direction: 'sendrecv',
  sessionId: '42',
  sessionVersion: 1,
  ...over,
});

describe('SDP parse/serialize', () => {
  it('round-trips real offers line for line', () => {
    for (const text of [SIPP, SIPP_PCAP, LINPHONE]) {
      expect(serializeSdp(parseSdp(text))).toBe(text);
    }
    expect(serializeSdp(parseSdp(BARESIP))).toBe(BARESIP.replaceAll('\n', '\r\n'));
  });

  it('parses the fields', () => {
    const sdp = parseSdp(BARESIP);
    expect(sdp.origin.address).toBe('192.168.1.20');
    expect(sdp.connection?.address).toBe('192.168.1.20');
    expect(sdp.media[0]?.port).toBe(10002);
    expect(sdp.media[0]?.formats).toEqual(['96', '97', '9', '0', '8', '101']);
    expect(sdp.media[0]?.lines).toEqual(['b=AS:128']);
  });

  it('rejects garbage with SdpParseError', () => {
    expect(() => parseSdp('hello')).toThrow(/SDP/);
    expect(() => parseSdp('v=0\r\nm=audio x RTP/AVP 0\r\n')).toThrow();
    expect(() => parseSdp('')).toThrow();
  });
});

describe('offer/answer', () => {
  it('answers sipp with PCMU on our advertised address and no telephone-event', () => {
    const { answer, audio } = answerOffer(parseSdp(SIPP), local());
    expect(audio).toMatchObject({
      codec: 'PCMU',
      payloadType: 0,
      remoteAddress: '127.0.1.1',
      remotePort: 6000,
      direction: 'sendrecv',
    });
    expect(audio?.telephoneEvent).toBeUndefined();
    const text = serializeSdp(answer!);
    expect(text).toContain('c=IN IP4 203.0.113.7\r\n');
    expect(text).toContain('m=audio 20000 RTP/AVP 0\r\n');
    expect(text).toContain('a=ptime:20\r\n');
    expect(text).toContain('a=sendrecv\r\n');
  });

  it('takes PCMA and PT 101 from the sipp pcap scenario', () => {
    const { answer, audio } = answerOffer(parseSdp(SIPP_PCAP), local());
    expect(audio).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101 });
    const text = serializeSdp(answer!);
    expect(text).toContain('m=audio 20000 RTP/AVP 8 101\r\n');
    expect(text).toContain('a=rtpmap:101 telephone-event/8000\r\n');
  });

  it('honours the offerer order among G.711 and skips wideband/opus (baresip)', () => {
    const { audio } = answerOffer(parseSdp(BARESIP), local());
    expect(audio).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEvent: 101 });
  });

  it('refuses the video stream and picks the 8 kHz telephone-event (Linphone)', () => {
    const { answer, audio } = answerOffer(parseSdp(LINPHONE), local());
    expect(audio).toMatchObject({
      codec: 'PCMA',
      telephoneEvent: 98,
      remoteAddress: '10.0.0.5',
      remotePort: 7078,
    });
    expect(answer!.media).toHaveLength(2);
    expect(answer!.media[1]).toMatchObject({ type: 'video', port: 0 });
    expect(serializeSdp(answer!)).toContain('m=audio 20000 RTP/AVP 8 98\r\n');
  });

  it('returns no answer when no codec is common (488)', () => {
    const offer = parseSdp(BARESIP.replace('96 97 9 0 8 101', '96 97 9 101'));
    expect(answerOffer(offer, local()).answer).toBeUndefined();
    expect(answerOffer(parseSdp(SIPP), local({ codecs: ['PCMA'] })).answer).toBeUndefined();
  });

  it('mirrors hold directions', () => {
    const held = (d: string) => answerOffer(parseSdp(SIPP + `a=${d}\r\n`), local());
    expect(held('sendonly').audio?.direction).toBe('recvonly');
    expect(serializeSdp(held('sendonly').answer!)).toContain('a=recvonly');
    expect(held('recvonly').audio?.direction).toBe('sendonly');
    expect(held('inactive').audio?.direction).toBe('inactive');
    // RFC 2543 style hold
    const old = answerOffer(
      parseSdp(SIPP.replace('c=IN IP4 127.0.1.1', 'c=IN IP4 0.0.0.0')),
      local(),
    );
    expect(old.audio?.direction).toBe('recvonly');
    // We hold the peer: our sendonly against their sendrecv
    const ours = answerOffer(parseSdp(SIPP), local({ direction: 'sendonly' }));
    expect(ours.audio?.direction).toBe('sendonly');
  });

  it('builds an offer and reads the answer to it', () => {
    const offer = serializeSdp(createOffer(local({ direction: 'sendonly', sessionVersion: 3 })));
    expect(offer).toBe(
      [
        'v=0',
        'o=switchboard 42 3 IN IP4 203.0.113.7',
        's=Switchboard',
        'c=IN IP4 203.0.113.7',
        't=0 0',
        'm=audio 20000 RTP/AVP 0 8 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendonly',
        '',
      ].join('\r\n'),
    );
    // Answer from a peer (our own answerer) accepting it
    const { answer } = answerOffer(
      parseSdp(offer),
      local({ address: '198.51.100.1', port: 30000 }),
    );
    const audio = readAnswer(answer!, local({ direction: 'sendonly' }));
    expect(audio).toMatchObject({
      codec: 'PCMU',
      telephoneEvent: 101,
      remoteAddress: '198.51.100.1',
      remotePort: 30000,
      direction: 'sendonly',
    });
  });
});

describe('SDP parser under garbage', () => {
  it('only ever throws SdpParseError', async () => {
    const fc = (await import('fast-check')).default;
    const { SdpParseError } = await import('./sdp.js');
    const line = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(fc.constantFrom(...'vosctmabiuepkrz'), fc.string({ maxLength: 40 }))
        .map(([t, v]) => `${t}=${v}`),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.boolean(), (lines, crlf) => {
        const text = lines.join(crlf ? '\r\n' : '\n');
        for (const input of [text, `v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n${text}`]) {
          try {
            const sdp = parseSdp(input);
            answerOffer(sdp, local());
            serializeSdp(sdp);
          } catch (err) {
            expect(err).toBeInstanceOf(SdpParseError);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
