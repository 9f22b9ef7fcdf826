// The Voice SDK's sounds, served by Switchboard so a page needs nothing from twilio.com (the
// SDK would otherwise fetch them from sdk.twilio.com and, when that is unreachable, hold every
// incoming call 2 s for the ringtone). Small 8 kHz WAV tones made once: a North American ring,
// a ringback, a disconnect beep, and the DTMF pairs.
import { fail } from '../core/index.js';
import type { RestRoute } from '../core/rest.js';

const RATE = 8000;

function wav(samples: Int16Array): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** `on` ms of the summed frequencies, then `off` ms of silence, `times` over. */
function tone(freqs: readonly number[], on: number, off: number, times = 1): Buffer {
  const per = Math.round(((on + off) * RATE) / 1000);
  const lit = Math.round((on * RATE) / 1000);
  const out = new Int16Array(per * times);
  for (let i = 0; i < out.length; i++) {
    if (i % per >= lit) continue;
    const t = i / RATE;
    out[i] = Math.round(
      (6000 / freqs.length) * freqs.reduce((s, f) => s + Math.sin(2 * Math.PI * f * t), 0),
    );
  }
  return wav(out);
}

const DTMF: Record<string, readonly [number, number]> = {
  '1': [697, 1209],
  '2': [697, 1336],
  '3': [697, 1477],
  '4': [770, 1209],
  '5': [770, 1336],
  '6': [770, 1477],
  '7': [852, 1209],
  '8': [852, 1336],
  '9': [852, 1477],
  s: [941, 1209],
  '0': [941, 1336],
  h: [941, 1477],
};

let sounds: Map<string, Buffer> | undefined;
function all(): Map<string, Buffer> {
  if (sounds) return sounds;
  sounds = new Map([
    ['incoming', tone([440, 480], 2000, 4000)],
    ['outgoing', tone([440, 480], 2000, 4000)],
    ['disconnect', tone([480, 620], 250, 250, 2)],
  ]);
  for (const [k, f] of Object.entries(DTMF)) sounds.set(`dtmf${k}`, tone(f, 200, 0));
  return sounds;
}

export const soundRoutes: RestRoute[] = [
  {
    method: 'GET',
    domain: 'presence',
    path: '/v1/Sounds/:Name',
    summary:
      "The Voice SDK's sounds as WAV (incoming, outgoing, disconnect, dtmf0–9, dtmfs, dtmfh); public",
    auth: 'none',
    handler(req) {
      const name = (req.params.Name ?? '').replace(/\.wav$/, '');
      const body = all().get(name);
      if (!body) fail('notFound', `Sound ${name.slice(0, 20)}`);
      return Promise.resolve({
        status: 200,
        body,
        contentType: 'audio/wav',
        // Pages on any origin load them (the SDK fetches sounds with XHR).
        headers: { 'cache-control': 'public, max-age=86400', 'access-control-allow-origin': '*' },
      });
    },
  },
];
