// The queue verbs as the official SDK's VoiceResponse writes them.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseTwiml, TwimlError } from './parse.js';

const { VoiceResponse } = twilio.twiml;

function code(xml: string): number {
  try {
    parseTwiml(xml);
    return 0;
  } catch (e) {
    if (!(e instanceof TwimlError)) throw e;
    return e.code;
  }
}

describe('queue TwiML', () => {
  it('parses <Enqueue>, <Leave> and <Dial><Queue>', () => {
    const r = new VoiceResponse();
    r.enqueue(
      { action: '/done', method: 'GET', waitUrl: '/wait', waitUrlMethod: 'GET' },
      'support',
    );
    r.leave();
    r.dial({ action: '/after', timeout: 20, hangupOnStar: true }).queue(
      { url: '/whisper', method: 'GET' },
      'support',
    );
    expect(parseTwiml(r.toString())).toEqual([
      {
        verb: 'Enqueue',
        name: 'support',
        action: '/done',
        method: 'GET',
        waitUrl: '/wait',
        waitUrlMethod: 'GET',
      },
      { verb: 'Leave' },
      {
        verb: 'DialQueue',
        queue: 'support',
        url: '/whisper',
        urlMethod: 'GET',
        timeoutS: 20,
        action: '/after',
        method: 'POST',
        timeLimitS: 14_400,
        hangupOnStar: true,
      },
    ]);
  });

  it('refuses TaskRouter with 13221 and malformed queue TwiML with 12200', () => {
    const task = new VoiceResponse();
    task.enqueue({ workflowSid: 'WW' + '0'.repeat(32) }).task('{"skill":"fr"}');
    expect(code(task.toString())).toBe(13221);
    expect(code('<Response><Enqueue workflowSid="WWx">q</Enqueue></Response>')).toBe(13221);
    const reservation = new VoiceResponse();
    reservation.dial().queue({ reservationSid: 'WR' + '0'.repeat(32) }, 'q');
    expect(code(reservation.toString())).toBe(13221);
    expect(code('<Response><Enqueue/></Response>')).toBe(12200);
    expect(code(`<Response><Enqueue>${'x'.repeat(65)}</Enqueue></Response>`)).toBe(12200);
    expect(code('<Response><Enqueue method="PUT">q</Enqueue></Response>')).toBe(12200);
    expect(
      code('<Response><Dial><Queue>q</Queue><Number>+15550001</Number></Dial></Response>'),
    ).toBe(12200);
    expect(code('<Response><Dial><Queue/></Dial></Response>')).toBe(12200);
    expect(
      code('<Response><Dial record="record-from-answer"><Queue>q</Queue></Dial></Response>'),
    ).toBe(13221);
  });
});
