import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseTwiml, TwimlError } from './parse.js';

const { VoiceResponse } = twilio.twiml;

describe('parseTwiml', () => {
  it('reads what the official SDK VoiceResponse builds', () => {
    const r = new VoiceResponse();
    r.say({ voice: 'alice', language: 'en-US', loop: 2 }, 'Hello & welcome');
    const g = r.gather({
      numDigits: 2,
      action: '/next',
      method: 'GET',
      timeout: 3,
      finishOnKey: '*',
    });
    g.say('Press two digits');
    g.play({ loop: 1 }, 'https://example.com/a.wav');
    g.pause({ length: 2 });
    r.record({
      maxLength: 20,
      finishOnKey: '#',
      playBeep: false,
      action: '/rec',
      recordingStatusCallback: '/rs',
    });
    r.redirect({ method: 'POST' }, 'module:voicemail');
    r.dial({ timeout: 10, callerId: '+15550001111', action: '/dialed' }).sip(
      'sip:bob@127.0.0.1:5070',
    );
    r.reject({ reason: 'busy' });
    r.hangup();
    const verbs = parseTwiml(r.toString());
    expect(verbs.map((v) => v.verb)).toEqual([
      'Say',
      'Gather',
      'Record',
      'Redirect',
      'Dial',
      'Reject',
      'Hangup',
    ]);
    expect(verbs[0]).toEqual({
      verb: 'Say',
      text: 'Hello & welcome',
      voice: 'alice',
      language: 'en-US',
      loop: 2,
    });
    expect(verbs[1]).toMatchObject({
      verb: 'Gather',
      numDigits: 2,
      action: '/next',
      method: 'GET',
      timeoutS: 3,
      finishOnKey: '*',
      input: ['dtmf'],
    });
    expect(verbs[1]?.verb === 'Gather' && verbs[1].prompts.map((p) => p.verb)).toEqual([
      'Say',
      'Play',
      'Pause',
    ]);
    expect(verbs[2]).toMatchObject({
      verb: 'Record',
      maxLengthS: 20,
      playBeep: false,
      recordingStatusCallback: '/rs',
    });
    expect(verbs[3]).toEqual({ verb: 'Redirect', target: 'module:voicemail', method: 'POST' });
    expect(verbs[4]).toMatchObject({
      verb: 'Dial',
      timeoutS: 10,
      nouns: [{ noun: 'Sip', uri: 'sip:bob@127.0.0.1:5070' }],
    });
    expect(verbs[5]).toEqual({ verb: 'Reject', reason: 'busy' });
  });

  it('refuses what it cannot run, with Twilio codes, never silently', () => {
    const pay = new VoiceResponse();
    pay.pay();
    expect(() => parseTwiml(pay.toString())).toThrow(TwimlError);
    expect(() => parseTwiml(pay.toString())).toThrow(/Pay/);
    const codes = (xml: string) => {
      try {
        parseTwiml(xml);
        return 0;
      } catch (e) {
        return (e as TwimlError).code;
      }
    };
    expect(codes('<Response><Say>unclosed</Response>')).toBe(12100);
    expect(codes('<Html/>')).toBe(12100);
    expect(codes('<Response><Dance/></Response>')).toBe(12200);
    expect(codes('<Response><Gather numDigits="many"/></Response>')).toBe(12200);
    expect(codes('<!DOCTYPE x [<!ENTITY a "aaaa">]><Response><Say>&a;</Say></Response>')).toBe(
      12100,
    );
    expect(codes('<Response><Dial><Sim>DE0123</Sim></Dial></Response>')).toBe(13221);
  });

  it('never throws anything but TwimlError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseTwiml(s);
        } catch (e) {
          if (!(e instanceof TwimlError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('Say', 'Play', 'Pause', 'Gather', 'Hangup', 'Redirect', 'Record'),
        fc.dictionary(
          fc.constantFrom('loop', 'length', 'numDigits', 'timeout', 'method', 'maxLength'),
          fc.string(),
        ),
        (tag, attrs) => {
          const a = Object.entries(attrs)
            .map(([k, v]) => `${k}="${v.replace(/[<&"]/g, '')}"`)
            .join(' ');
          try {
            parseTwiml(`<Response><${tag} ${a}>x</${tag}></Response>`);
          } catch (e) {
            if (!(e instanceof TwimlError)) throw e;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
