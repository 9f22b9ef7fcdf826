// <Dial record=…> attributes: what runs (two channels, trimming too), and what is refused.
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

  it('runs two-channel recordings and trimming, and refuses bad values (12200)', () => {
    expect(parseTwiml(dialWith({ record: 'record-from-answer-dual' }))[0]).toMatchObject({
      record: 'record-from-answer',
      recordChannels: 2,
      trim: 'do-not-trim',
    });
    expect(
      parseTwiml(dialWith({ record: 'record-from-ringing-dual', trim: 'trim-silence' }))[0],
    ).toMatchObject({ record: 'record-from-ringing', recordChannels: 2, trim: 'trim-silence' });
    expect(parseTwiml(dialWith({ record: 'record-from-answer' }))[0]).toMatchObject({
      recordChannels: 1,
    });
    expect(code(dialWith({ record: 'always' }))).toBe(12200);
    expect(code(dialWith({ trim: 'sometimes' }))).toBe(12200);
    expect(code(dialWith({ recordingStatusCallbackEvent: ['done'] }))).toBe(12200);
    expect(code(dialWith({ recordingTrack: 'left' }))).toBe(12200);
  });
});
