// A page running the official Voice SDK bundle (from the npm package, pinned) in headless
// Chromium driven by playwright-core, for the presence tests. Everything the page loads is
// served here (page and bundle) or by Switchboard (signalling, sounds); nothing else is
// reached. RTCPeerConnections are kept so the tests read getStats() — SDK events prove nothing.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { until } from '../support/until.js';

export const CHROMIUM = '/usr/bin/chromium';

export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') return true; // run and fail
  console.warn(
    '\n*** chromium is not installed: skipping the Voice SDK browser tests (scripts/setup-system.sh) ***\n',
  );
  return false;
}

/** The SDK bundle: not in the package's exports map, so found by path. */
export function sdkBundlePath(): string {
  const main = createRequire(import.meta.url).resolve('@twilio/voice-sdk');
  const root = main.slice(0, main.lastIndexOf('@twilio/voice-sdk') + '@twilio/voice-sdk'.length);
  return join(root, 'dist', 'twilio.min.js');
}

/** A 48 kHz mono WAV of `hz` for Chromium's fake microphone. */
function toneWav(hz: number, seconds: number): string {
  const rate = 48_000;
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++)
    data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  const path = join(mkdtempSync(join(tmpdir(), 'sb-mic-')), `tone-${hz}.wav`);
  writeFileSync(path, Buffer.concat([h, data]));
  return path;
}

export async function launchBrowser(micHz: number): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${toneWav(micHz, 10)}`,
      '--allow-loopback-in-peer-connection',
      '--no-sandbox',
      '--ignore-certificate-errors',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

// The customer's web app: the page and the bundle, from a real loopback server (a loopback
// page is a secure context, and Chromium's Local Network Access checks let it reach the
// loopback signalling address; a page fulfilled by the test harness would count as public).
const page = (origin: string) => `<!doctype html><html><head>
<script>
  // Keep every peer connection the SDK makes, for getStats().
  window.pcs = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
</script>
<script src="${origin}/twilio.min.js"></script>
</head><body><script>
  window.log = [];
  window.calls = [];
  window.startDevice = async (token, chunderw, sounds) => {
    const device = new Twilio.Device(token, {
      chunderw, publishEvents: false, logLevel: 'warn',
      sounds: Object.fromEntries(['incoming', 'outgoing', 'disconnect', 'dtmf0', 'dtmf1', 'dtmf2', 'dtmf3', 'dtmf4', 'dtmf5', 'dtmf6', 'dtmf7', 'dtmf8', 'dtmf9', 'dtmfs', 'dtmfh'].map((n) => [n, sounds + '/' + n + '.wav'])),
    });
    window.device = device;
    device.on('error', (e) => window.log.push({ event: 'error', code: e.code, message: e.message }));
    device.on('registered', () => window.log.push({ event: 'registered' }));
    device.on('incoming', (call) => {
      window.calls.push(call);
      window.log.push({ event: 'incoming', params: call.parameters, custom: Object.fromEntries(call.customParameters) });
      call.on('disconnect', () => window.log.push({ event: 'disconnect' }));
      call.on('cancel', () => window.log.push({ event: 'cancel' }));
    });
    // Calls the page places: device.connect({params}), every event logged.
    window.placeCall = async (params) => {
      const call = await device.connect({ params });
      window.calls.push(call);
      call.on('ringing', (early) => window.log.push({ event: 'ringing', early, params: call.parameters }));
      call.on('accept', () => window.log.push({ event: 'accept', params: call.parameters }));
      call.on('disconnect', () => window.log.push({ event: 'disconnect' }));
      // With the SDK's default (enableImprovedSignalingErrorPrecision off) a precise gateway
      // code arrives as ConnectionError 31005 carrying the gateway's error as originalError.
      call.on('error', (e) => window.log.push({ event: 'call-error', code: e.code, message: e.message, original: e.originalError && e.originalError.code }));
    };
    // Not awaited: with a refused token the SDK reports an error event and may never settle.
    device.register().catch((e) => window.log.push({ event: 'register-failed', code: e.code }));
  };
  // The loudest frequency of what the remote side sends (WebAudio FFT of the remote stream).
  window.listen = (call) => {
    const stream = call.getRemoteStream();
    if (!stream) return false;
    const el = new Audio(); el.srcObject = stream; el.muted = true; el.play();
    const ctx = new AudioContext();
    const an = ctx.createAnalyser(); an.fftSize = 4096;
    ctx.createMediaStreamSource(stream).connect(an);
    window.peak = () => {
      const bins = new Float32Array(an.frequencyBinCount); an.getFloatFrequencyData(bins);
      let best = 0; for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
      return { hz: best * ctx.sampleRate / an.fftSize, db: bins[best] };
    };
    return true;
  };
  window.rtp = async () => {
    const out = { received: 0, sent: 0, codecs: [] };
    for (const pc of window.pcs) {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') out.received += s.packetsReceived;
        if (s.type === 'outbound-rtp' && s.kind === 'audio') out.sent += s.packetsSent;
        if (s.type === 'codec') out.codecs.push(s.mimeType);
      });
    }
    return out;
  };
</script></body></html>`;

export interface AppServer {
  readonly origin: string;
  close(): Promise<void>;
}

export async function startAppServer(): Promise<AppServer> {
  const bundle = readFileSync(sdkBundlePath());
  let origin = '';
  const server = createServer((req, res) => {
    if (req.url === '/twilio.min.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      res.end(bundle);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page(origin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A fresh page (own context) with the SDK loaded; one browser per test file. */
export async function openSdkPage(browser: Browser, app: AppServer): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const tab = await context.newPage();
  await tab.goto(`${app.origin}/index.html`);
  return tab;
}

export interface LogEntry {
  event: string;
  code?: number;
  message?: string;
  params?: Record<string, string>;
  custom?: Record<string, string>;
  /** A call error's originalError.code (the gateway's precise code). */
  original?: number;
}

export async function pageLog(page: Page): Promise<LogEntry[]> {
  return page.evaluate(() => (globalThis as unknown as { log: LogEntry[] }).log);
}

/** Starts the page's Device against a node's TLS port (chunderw) and registers it. */
export async function registerDevice(page: Page, tlsPort: number, jwt: string): Promise<void> {
  const chunderw = `127.0.0.1:${tlsPort}`;
  const sounds = `https://127.0.0.1:${tlsPort}/presence/v1/Sounds`;
  await page.evaluate(
    ([t, c, s]) =>
      (globalThis as unknown as { startDevice: (...a: string[]) => Promise<void> }).startDevice(
        t!,
        c!,
        s!,
      ),
    [jwt, chunderw, sounds],
  );
}

/** What a test phone offers: the loudness of a frequency in what it heard lately. */
export interface TonePhone {
  level(frequency: number, from: number, to: number): number;
}

/** The page's Device places a call (device.connect) with these params. */
export async function placeCall(page: Page, params: Record<string, string>): Promise<void> {
  await page.evaluate(
    (p) =>
      (globalThis as unknown as { placeCall(p: Record<string, string>): Promise<void> }).placeCall(
        p,
      ),
    params,
  );
}

/** Waits for the page's log to hold `event` (the first such entry). */
export function pageEvent(page: Page, event: string, ms = 15_000): Promise<LogEntry> {
  return until(event, async () => (await pageLog(page)).find((e) => e.event === event), ms);
}

/**
 * Accepts the page's first incoming call and checks the audio both ways by the media itself:
 * the phone's tone is the loudest frequency the browser hears (WebAudio FFT), the browser's
 * fake microphone tone reaches the phone (Goertzel), and the browser's getStats counts a
 * second of packets each way. Returns those counts.
 */
export async function answerAndTalk(
  page: Page,
  phone: TonePhone,
  tones: { micHz: number; phoneHz: number },
): Promise<{ received: number; sent: number; codecs: string[] }> {
  await page.evaluate(() =>
    (globalThis as unknown as { calls: { accept(): void }[] }).calls[0]!.accept(),
  );
  return talk(page, phone, tones);
}

/**
 * Checks the audio of the page's first call both ways by the media itself (see answerAndTalk);
 * the call is already connected. Returns the browser's RTP counts.
 */
export async function talk(
  page: Page,
  phone: TonePhone,
  tones: { micHz: number; phoneHz: number },
): Promise<{ received: number; sent: number; codecs: string[] }> {
  await until('the remote stream', () =>
    page.evaluate(() => {
      const w = globalThis as unknown as { calls: unknown[]; listen(c: unknown): boolean };
      return w.listen(w.calls[0]);
    }),
  );
  await until(
    'the phone tone in the browser',
    async () => {
      const p = await page.evaluate(() =>
        (globalThis as unknown as { peak(): { hz: number; db: number } }).peak(),
      );
      return Math.abs(p.hz - tones.phoneHz) < 30 && p.db > -60;
    },
    // 10 s ran out once in a full CI run (PostgreSQL + Redis phase) and never alone; the cause
    // is not found (see the closing note of 2026-12-08).
    20_000,
  );
  const since = Date.now();
  await until(
    'the browser tone at the phone',
    () => phone.level(tones.micHz, since, Date.now()) > 500,
    10_000,
  );
  if (
    phone.level(tones.micHz, since, Date.now()) <
    5 * phone.level(tones.phoneHz, since, Date.now())
  )
    throw new Error("the phone hears its own tone louder than the browser's");
  return until('RTP both ways', async () => {
    const r = await page.evaluate(() =>
      (
        globalThis as unknown as {
          rtp(): Promise<{ received: number; sent: number; codecs: string[] }>;
        }
      ).rtp(),
    );
    return r.received > 50 && r.sent > 50 && r;
  });
}
