// A call with a second independent UA, baresip, driven over its ctrl_tcp JSON port:
// baresip dials the engine and sends a known sweep from a WAV file; the engine answers with a
// media session, plays its own tone and records what arrives. Both directions are checked by
// energy and by correlation with what was sent.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMediaEngine, readWav, toMono16, type MediaSession } from '../../src/media/index.js';
import { answerWithMedia, createSipEngine } from '../../src/sip/index.js';
import { until } from '../support/until.js';
import { haveBaresip, startBaresip, type Baresip } from './baresip.js';

function haveTools(): boolean {
  const ok = haveBaresip();
  if (!ok && process.env.CI !== 'true')
    console.warn(
      '\n*** baresip (baresip-core) or sox missing: skipping the baresip audio test ***\n',
    );
  return ok || process.env.CI === 'true';
}

const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
let baresip: Baresip | undefined;
afterAll(() => {
  baresip?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** Best of three 250 ms windows (at 1, 2, 3 s of `sent`) correlated over every lag of `hay`. */
function windowsCorrelation(hay: Int16Array, sent: Int16Array): number {
  let best = 0;
  for (const at of [8000, 16000, 24000])
    best = Math.max(best, bestCorrelation(hay, sent.subarray(at, at + 2000)));
  return best;
}

/** Best normalised cross-correlation of `probe` inside `hay` over all lags. */
function bestCorrelation(hay: Int16Array, probe: Int16Array): number {
  let pe = 0;
  for (let i = 0; i < probe.length; i += 2) pe += (probe[i] as number) ** 2;
  let best = 0;
  for (let lag = 0; lag + probe.length <= hay.length; lag += 1) {
    let dot = 0;
    let he = 0;
    for (let i = 0; i < probe.length; i += 2) {
      const h = hay[lag + i] as number;
      dot += h * (probe[i] as number);
      he += h * h;
    }
    const c = dot / Math.sqrt(Math.max(1, he * pe));
    if (c > best) best = c;
  }
  return best;
}

describe.skipIf(!haveTools())('SIP + media against baresip', () => {
  it('exchanges audio both ways with baresip (energy and correlation)', async () => {
    const source = join(dir, 'sweep.wav');
    expect(
      spawnSync('sox', [
        '-n',
        '-r',
        '8000',
        '-c',
        '1',
        '-b',
        '16',
        source,
        'synth',
        '4',
        'sine',
        '300-3000',
        'vol',
        '0.5',
      ]).status,
    ).toBe(0);
    const tone = join(dir, 'tone.wav');
    expect(
      spawnSync('sox', [
        '-n',
        '-r',
        '8000',
        '-c',
        '1',
        '-b',
        '16',
        tone,
        'synth',
        '4',
        'sine',
        '3000-300',
        'vol',
        '0.5',
      ]).status,
    ).toBe(0);

    const media = createMediaEngine({
      bindAddress: '127.0.0.1',
      portRange: '0',
      rtpTimeoutS: 0,
      dataDir: dir,
    });
    const sip = await createSipEngine({ host: '127.0.0.1', port: 0 });
    try {
      baresip = await startBaresip('<sip:baresip@127.0.0.1>;regint=0', source, 40);

      const tonePrompt = await media.prompts.load(tone);
      let session: MediaSession | undefined;
      let recordingPath: string | undefined;
      sip.on('invite', (call) => {
        void answerWithMedia(call, media).then(async (s) => {
          if (s === undefined) return;
          session = s;
          const rec = media.record(s, join(dir, 'engine-in.wav'), { mode: 'in' });
          await s.play(tonePrompt).done;
          recordingPath = (await rec.stop()).path;
          call.hangup();
        });
      });

      const dial = await baresip.command('dial', `sip:engine@127.0.0.1:${sip.port}`);
      expect(dial.ok, JSON.stringify(dial)).toBe(true);
      await until('the call to play and record', () => recordingPath !== undefined, 20_000);
      expect(session?.negotiated?.codec).toMatch(/PCM[UA]/);

      // What baresip sent, as the engine received it.
      const got = toMono16(readWav(readFileSync(recordingPath as string)));
      const sent = toMono16(readWav(readFileSync(source)));
      expect(got.length).toBeGreaterThan(8000 * 2);
      expect(rms(got)).toBeGreaterThan(rms(sent) * 0.3);
      const corrIn = windowsCorrelation(got, sent);
      expect(corrIn).toBeGreaterThan(0.8);

      // What the engine sent, as baresip decoded it (sndfile dumps per call).
      const dumps = baresip.dir;
      await until(
        'baresip dump',
        () => readdirSync(dumps).some((f) => f.startsWith('dump-') && f.endsWith('-dec.wav')),
        5000,
      );
      await new Promise((r) => setTimeout(r, 500));
      const decName = readdirSync(dumps).find(
        (f) => f.startsWith('dump-') && f.endsWith('-dec.wav'),
      ) as string;
      const heard = toMono16(readWav(readFileSync(join(dumps, decName))));
      const played = toMono16(readWav(readFileSync(tone)));
      expect(rms(heard)).toBeGreaterThan(rms(played) * 0.3);
      const corrOut = windowsCorrelation(heard, played);
      expect(corrOut).toBeGreaterThan(0.8);
      console.info(
        `baresip audio: engine<-baresip rms ${rms(got).toFixed(0)}/${rms(sent).toFixed(0)} corr ${corrIn.toFixed(3)}; ` +
          `baresip<-engine rms ${rms(heard).toFixed(0)}/${rms(played).toFixed(0)} corr ${corrOut.toFixed(3)}`,
      );
    } finally {
      await sip.close();
      media.close();
    }
  }, 60_000);
});
