// A call with a second independent UA, baresip, driven over its ctrl_tcp JSON port:
// baresip dials the engine and sends a known sweep from a WAV file; the engine answers with a
// media session, plays its own tone and records what arrives. Both directions are checked by
// energy and by correlation with what was sent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMediaEngine, readWav, toMono16, type MediaSession } from '../../src/media/index.js';
import { answerWithMedia, createSipEngine } from '../../src/sip/index.js';
import { freePort } from './sipp.js';

const BARESIP = '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';

function haveTools(): boolean {
  const ok =
    existsSync(BARESIP) &&
    existsSync(join(MODULES, 'ctrl_tcp.so')) &&
    spawnSync('sox', ['--version']).status === 0;
  if (!ok && process.env.CI !== 'true')
    console.warn(
      '\n*** baresip (baresip-core) or sox missing: skipping the baresip audio test ***\n',
    );
  return ok || process.env.CI === 'true';
}

const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM'); // through `timeout` to baresip
  rmSync(dir, { recursive: true, force: true });
});

/** One ctrl_tcp command (netstring-framed JSON), bounded by a timeout. */
function command(port: number, cmd: string, params = ''): Promise<{ ok: boolean; data?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`baresip ${cmd}: no reply`));
    }, 5000);
    let buf = '';
    s.on('connect', () => {
      const json = JSON.stringify({ command: cmd, params, token: 't' });
      s.write(`${Buffer.byteLength(json)}:${json},`);
    });
    s.on('data', (d) => {
      buf += d.toString();
      // Netstrings: events may come before our response.
      for (;;) {
        const colon = buf.indexOf(':');
        if (colon <= 0) return;
        const len = Number(buf.slice(0, colon));
        if (buf.length < colon + 1 + len + 1) return;
        const msg = JSON.parse(buf.slice(colon + 1, colon + 1 + len)) as {
          ok: boolean;
          data?: string;
          response?: boolean;
        };
        buf = buf.slice(colon + 1 + len + 1);
        if (msg.response === true) {
          clearTimeout(timer);
          s.end();
          resolve(msg);
          return;
        }
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

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

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
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
      const sipPort = await freePort();
      const ctrlPort = await freePort();
      writeFileSync(
        join(dir, 'config'),
        [
          'poll_method poll',
          `sip_listen 127.0.0.1:${sipPort}`,
          'net_interface 127.0.0.1',
          'audio_player aubridge,nil',
          'audio_alert aubridge,nil',
          `audio_source aufile,${source}`,
          `module_path ${MODULES}`,
          'module g711.so',
          'module aufile.so',
          'module aubridge.so',
          'module sndfile.so',
          'module account.so',
          'module menu.so',
          'module ctrl_tcp.so',
          `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
          `snd_path ${dir}`,
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'accounts'), '<sip:baresip@127.0.0.1>;regint=0\n');
      writeFileSync(join(dir, 'contacts'), '');
      child = spawn('timeout', ['-k', '2', '40', BARESIP, '-f', dir, '-t', '40'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
      await until(() => log.includes('baresip is ready'), 10_000, `baresip start (${log})`);

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

      const dial = await command(ctrlPort, 'dial', `sip:engine@127.0.0.1:${sip.port}`);
      expect(dial.ok, JSON.stringify(dial)).toBe(true);
      await until(() => recordingPath !== undefined, 20_000, 'the call to play and record');
      expect(session?.negotiated?.codec).toMatch(/PCM[UA]/);

      // What baresip sent, as the engine received it.
      const got = toMono16(readWav(readFileSync(recordingPath as string)));
      const sent = toMono16(readWav(readFileSync(source)));
      expect(got.length).toBeGreaterThan(8000 * 2);
      expect(rms(got)).toBeGreaterThan(rms(sent) * 0.3);
      const corrIn = windowsCorrelation(got, sent);
      expect(corrIn).toBeGreaterThan(0.8);

      // What the engine sent, as baresip decoded it (sndfile dumps per call).
      await until(
        () => readdirSync(dir).some((f) => f.startsWith('dump-') && f.endsWith('-dec.wav')),
        5000,
        'baresip dump',
      );
      await new Promise((r) => setTimeout(r, 500));
      const decName = readdirSync(dir).find(
        (f) => f.startsWith('dump-') && f.endsWith('-dec.wav'),
      ) as string;
      const heard = toMono16(readWav(readFileSync(join(dir, decName))));
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
