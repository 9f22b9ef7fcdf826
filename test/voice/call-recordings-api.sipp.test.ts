// The Call Recordings API through the official SDK on a live call to a sipp UAS that speaks
// (g711a.pcap) while the call says a looping <Say>: start a two-channel recording with a
// recordingStatusCallback, pause it (skip), resume it through Twilio.CURRENT, stop it; a
// second, trimmed recording runs alongside and ends with the call. The WAVs are checked:
// channels, length against what was recorded, and sound on each side.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import { startCallee, useVoicePlatform, waitForCallStatus } from './voice-platform.js';
import { until } from '../support/until.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
const fx = useVoicePlatform(TOOLS);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A recording's WAV: its channels, length in seconds and the RMS level of each channel. */
async function download(sid: string) {
  const res = await fetch(
    `${fx.t.url}/2010-04-01/Accounts/${fx.t.accountSid}/Recordings/${sid}.wav`,
    {
      headers: {
        authorization:
          'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
      },
    },
  );
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
  const channels = bytes.readUInt16LE(22);
  const samples = new Int16Array(
    bytes.buffer,
    bytes.byteOffset + 44,
    Math.floor((bytes.length - 44) / 2),
  );
  const rms = (c: number) => {
    let sum = 0;
    let n = 0;
    for (let i = c; i < samples.length; i += channels) {
      sum += samples[i]! ** 2;
      n++;
    }
    return Math.sqrt(sum / Math.max(1, n));
  };
  return {
    channels,
    rate: bytes.readUInt32LE(24),
    seconds: bytes.readUInt32LE(40) / (16_000 * channels),
    rms: Array.from({ length: channels }, (_, c) => rms(c)),
  };
}

describe.skipIf(!TOOLS)('the Call Recordings API on a live call', () => {
  it('starts, pauses, resumes and stops recordings of a live call; WAVs and callbacks match', async () => {
    const peer = await startCallee('uas-late-answer.xml');
    const doc = new VoiceResponse();
    doc.say({ loop: 10 }, 'This call is being recorded through the API.');
    const call = await fx.t.client.calls.create({
      to: peer.uri,
      from: '+15550014000',
      twiml: doc.toString(),
    });
    expect(await waitForCallStatus(fx, call.sid, 'in-progress')).toBe('in-progress');
    // A call cannot be recorded before it is answered, nor once it ended (below): 21220.
    const recordings = fx.t.client.calls(call.sid).recordings;

    const dual = await recordings.create({
      recordingChannels: 'dual',
      recordingTrack: 'both',
      recordingStatusCallback: fx.web.url + '/api-rec',
      recordingStatusCallbackEvent: ['in-progress', 'completed'],
    });
    expect(dual).toMatchObject({
      callSid: call.sid,
      status: 'in-progress',
      source: 'StartCallRecordingAPI',
      channels: 2,
      track: 'both',
    });
    expect(dual.sid).toMatch(/^RE[0-9a-f]{32}$/);
    await sleep(1500);
    const paused = await recordings(dual.sid).update({ status: 'paused', pauseBehavior: 'skip' });
    expect(paused.status).toBe('paused');
    expect((await recordings(dual.sid).fetch()).status).toBe('paused');
    await sleep(1500);
    // The one recording running, named Twilio.CURRENT.
    const resumed = await recordings('Twilio.CURRENT').update({ status: 'in-progress' });
    expect([resumed.sid, resumed.status]).toEqual([dual.sid, 'in-progress']);
    await sleep(1500);

    // A second one runs alongside (mono, trimmed): Twilio.CURRENT is no longer one recording.
    const trimmed = await recordings.create({ trim: 'trim-silence' });
    expect(trimmed).toMatchObject({ status: 'in-progress', channels: 1 });
    await expect(recordings('Twilio.CURRENT').update({ status: 'paused' })).rejects.toMatchObject({
      status: 400,
      code: 16108,
    });
    await expect(
      recordings('RE' + '0'.repeat(32)).update({ status: 'stopped' }),
    ).rejects.toMatchObject({ status: 404, code: 20404 });
    const bad = await request(
      fx.t,
      'POST',
      `/2010-04-01/Accounts/${fx.t.accountSid}/Calls/${call.sid}/Recordings/${dual.sid}.json`,
      'Status=rewind',
    );
    expect(bad.json).toMatchObject({ status: 400, code: 20001 });

    const stopped = await recordings(dual.sid).update({ status: 'stopped' });
    expect(stopped.status).toBe('stopped');
    const done = await recordings(dual.sid).fetch();
    expect(done.status).toBe('completed');
    // 1.5 s, a 1.5 s pause left out, 1.5 s more, the second's start: about 3–4 s, not 4.5–5.5.
    expect(Number(done.duration)).toBeGreaterThanOrEqual(2);
    expect(Number(done.duration)).toBeLessThanOrEqual(4);
    const wav = await download(dual.sid);
    expect(wav).toMatchObject({ channels: 2, rate: 8000 });
    expect(wav.seconds).toBeGreaterThan(2.5);
    expect(wav.seconds).toBeLessThan(4.5);
    // Left: the callee's speech (pcap); right: our <Say>.
    expect(wav.rms[0]).toBeGreaterThan(100);
    expect(wav.rms[1]).toBeGreaterThan(100);

    // A stopped recording stays stopped; the trimmed one ends with the call.
    await expect(recordings(dual.sid).update({ status: 'in-progress' })).rejects.toMatchObject({
      status: 400,
      code: 21220,
    });
    await fx.t.client.calls(call.sid).update({ status: 'completed' });
    expect((await peer.run.done).code).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
    await expect(recordings.create({})).rejects.toMatchObject({ status: 400, code: 21220 });
    const second = await until('the trimmed recording to finish', async () => {
      const r = await recordings(trimmed.sid).fetch();
      return r.status === 'completed' ? r : undefined;
    });
    const trimmedWav = await download(second.sid);
    expect(trimmedWav.channels).toBe(1);
    expect(Math.abs(trimmedWav.seconds - Number(second.duration))).toBeLessThanOrEqual(0.6);
    expect(trimmedWav.rms[0]).toBeGreaterThan(100);

    const listed = await recordings.list();
    expect(listed.map((r) => r.sid).sort()).toEqual([dual.sid, trimmed.sid].sort());
    const events = await until('the recording callbacks', () => {
      const seen = fx.web.seen.filter((s) => s.path === '/api-rec');
      return seen.length >= 2 ? seen : undefined;
    });
    expect(events.map((s) => s.params.RecordingStatus)).toEqual(['in-progress', 'completed']);
    expect(events[1]!.params).toMatchObject({
      CallSid: call.sid,
      RecordingSid: dual.sid,
      RecordingSource: 'StartCallRecordingAPI',
      RecordingChannels: '2',
      RecordingTrack: 'both',
      RecordingDuration: done.duration,
    });
    expect(events.every((s) => s.signatureValid)).toBe(true);
  }, 90_000);
});
