import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseTwiml, TwimlError } from './parse.js';

const { VoiceResponse } = twilio.twiml;

function code(xml: string): number | undefined {
  try {
    parseTwiml(xml);
    return undefined;
  } catch (e) {
    if (e instanceof TwimlError) return e.code;
    throw e;
  }
}

describe('<Dial><Conference>', () => {
  it("parses what the SDK's VoiceResponse emits, with Twilio's defaults", () => {
    const r = new VoiceResponse();
    r.dial({ action: '/after' }).conference(
      {
        muted: true,
        beep: 'onExit',
        startConferenceOnEnter: false,
        endConferenceOnExit: true,
        waitUrl: '',
        waitMethod: 'GET',
        maxParticipants: 10,
        record: 'record-from-start',
        statusCallback: '/events',
        statusCallbackEvent: ['start', 'end', 'join', 'leave', 'mute', 'hold'],
        participantLabel: 'host',
      },
      'Room 1',
    );
    const [dial] = parseTwiml(r.toString());
    expect(dial).toMatchObject({
      verb: 'Dial',
      action: '/after',
      nouns: [
        {
          noun: 'Conference',
          name: 'Room 1',
          muted: true,
          beep: 'onExit',
          startConferenceOnEnter: false,
          endConferenceOnExit: true,
          waitUrl: '',
          waitMethod: 'GET',
          maxParticipants: 10,
          record: 'record-from-start',
          statusCallback: '/events',
          statusCallbackEvent: ['start', 'end', 'join', 'leave', 'mute', 'hold'],
          participantLabel: 'host',
        },
      ],
    });
    const plain = new VoiceResponse();
    plain.dial().conference('lobby');
    expect(parseTwiml(plain.toString())[0]).toMatchObject({
      nouns: [
        {
          name: 'lobby',
          muted: false,
          beep: 'true',
          startConferenceOnEnter: true,
          endConferenceOnExit: false,
          waitUrl: undefined,
          maxParticipants: 250,
          record: 'do-not-record',
          statusCallbackEvent: [],
        },
      ],
    });
  });

  it('refuses bad attributes and mixing with other nouns (12200)', () => {
    const conf = (attrs: string, name = 'room') =>
      `<Response><Dial><Conference ${attrs}>${name}</Conference></Dial></Response>`;
    expect(code(conf('beep="loud"'))).toBe(12200);
    expect(code(conf('maxParticipants="251"'))).toBe(12200);
    expect(code(conf('maxParticipants="1"'))).toBe(12200);
    expect(code(conf('muted="yes"'))).toBe(12200);
    expect(code(conf('record="record-from-ringing"'))).toBe(12200);
    expect(code(conf('statusCallbackEvent="start bogus"'))).toBe(12200);
    expect(code(conf('waitMethod="PUT"'))).toBe(12200);
    expect(code(conf('', ''))).toBe(12200);
    expect(
      code(
        '<Response><Dial><Conference>a</Conference><Number>+15550001111</Number></Dial></Response>',
      ),
    ).toBe(12200);
  });
});
