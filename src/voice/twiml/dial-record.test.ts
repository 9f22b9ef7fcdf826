// <Dial record=…> attributes: what runs, and what is refused with a Twilio code.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseTwiml, TwimlError } from './parse.js';

const { VoiceResponse } = twilio.twiml;

function dialWith(attrs: Record<string, unknown>): string {
  const r = new VoiceResponse();
  r.dial(attrs).sip('sip:bob@127.0.0.1');
  return r.toString();
}

function code(xml: string): number {
  try {
    parseTwiml(xml);
    return 0;
  } catch (e) {
    return e instanceof TwimlError ? e.code : -1;
  }
}

describe('<Dial record>', () => {
  it('parses the recording attributes written by the SDK', () => {
    const [dial] = parseTwiml(
      dialWith({
        record: 'record-from-ringing',
        recordingStatusCallback: '/rs',
        recordingStatusCallbackMethod: 'GET',
        recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
        recordingTrack: 'inbound',
      }),
    );
    expect(dial).toMatchObject({
      verb: 'Dial',
      record: 'record-from-ringing',
      recordingStatusCallback: '/rs',
      recordingStatusCallbackMethod: 'GET',
      recordingStatusCallbackEvents: ['in-progress', 'completed', 'absent'],
      recordingTrack: 'inbound',
    });
    expect(parseTwiml(dialWith({}))[0]).toMatchObject({
      record: 'do-not-record',
      recordingStatusCallbackEvents: ['completed'],
      recordingTrack: 'both',
    });
  });

  it('refuses two-channel recordings and trimming (13221) and bad values (12200)', () => {
    expect(code(dialWith({ record: 'record-from-answer-dual' }))).toBe(13221);
    expect(code(dialWith({ record: 'record-from-answer', trim: 'trim-silence' }))).toBe(13221);
    expect(code(dialWith({ record: 'always' }))).toBe(12200);
    expect(code(dialWith({ recordingStatusCallbackEvent: ['done'] }))).toBe(12200);
    expect(code(dialWith({ recordingTrack: 'left' }))).toBe(12200);
  });
});
