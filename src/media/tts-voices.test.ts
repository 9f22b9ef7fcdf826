// Every <Say> language and voice the official SDK offers maps to a voice the installed
// espeak-ng has (its variant syntax `voice+f3` included), except the languages espeak-ng does
// not speak, which map to none and are refused at run time (13511) rather than mispronounced.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { espeakLanguage, espeakVoice } from './tts-voices.js';

const require = createRequire(import.meta.url);
const dts = readFileSync(
  join(dirname(require.resolve('twilio/package.json')), 'lib/twiml/VoiceResponse.d.ts'),
  'utf8',
);
const union = (name: string) =>
  [...(new RegExp(`type ${name} = ([^;]+);`).exec(dts)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map(
    (m) => m[1]!,
  );

/** Languages of Twilio's lists (Filipino, Galician) that espeak-ng has no voice for. */
const UNSPOKEN = ['fil-PH', 'gl-ES'];
const ESPEAK = existsSync('/usr/bin/espeak-ng') || process.env.CI === 'true';

describe.skipIf(!ESPEAK)('Say voices and languages', () => {
  const installed = new Set(
    execFileSync('espeak-ng', ['--voices'], { encoding: 'utf8' })
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/)[1])
      .filter(Boolean),
  );

  it('maps every SayLanguage of the SDK to an installed espeak-ng voice', () => {
    const languages = union('SayLanguage');
    expect(languages.length).toBeGreaterThan(50);
    for (const l of languages) {
      const v = espeakLanguage(l);
      if (UNSPOKEN.includes(l)) expect(v, l).toBeUndefined();
      else expect(installed.has(v ?? ''), `${l} → ${v}`).toBe(true);
    }
  });

  it('maps every SayVoice of the SDK (basic, Polly, Google) to a voice, women to the female variant', () => {
    const voices = union('SayVoice');
    expect(voices.length).toBeGreaterThan(100);
    for (const voice of voices) {
      const v = espeakVoice(voice);
      const lang = /^Google\.([a-z]{2,3}-[A-Za-z]{2})-/.exec(voice)?.[1];
      if (lang && UNSPOKEN.some((u) => u.toLowerCase() === lang.toLowerCase())) continue;
      expect(v, voice).toBeDefined();
      expect(installed.has((v ?? '').replace(/\+f3$/, '')), `${voice} → ${v}`).toBe(true);
    }
    expect(espeakVoice('alice')).toBe('en-us+f3');
    expect(espeakVoice('man', 'fr-FR')).toBe('fr-fr');
    expect(espeakVoice('Polly.Celine')).toBe('fr-fr+f3');
    expect(espeakVoice('Polly.Hans-Neural')).toBe('de');
    expect(espeakVoice('Google.pt-BR-Standard-A', 'en-US')).toBe('pt-br');
    expect(espeakVoice('Robot.Marvin')).toBeUndefined();
  });
});
