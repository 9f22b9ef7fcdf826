// Whole-call recordings: Calls create with Record=true (official SDK) to a sipp UAS that
// speaks (g711a.pcap), on two channels, trimmed by default as on Twilio (a silent call's
// recording is absent, unless Trim=do-not-trim), and <Dial record="record-from-answer">
// bridging a sipp caller to a sipp callee. Each gives a Recording resource, a downloadable WAV
// of the right length with audio in it, and the recordingStatusCallback events asked for, in
// order.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { haveSipp } from '../sip/sipp.js';
import { callIn, startCallee, useVoicePlatform, waitForCallStatus } from './voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const TOOLS = haveSipp();
const fx = useVoicePlatform(TOOLS);

/** Downloads a recording's WAV; returns its format, length in seconds and RMS level. */
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
  const samples = new Int16Array(
    bytes.buffer,
    bytes.byteOffset + 44,
    Math.floor((bytes.length - 44) / 2),
  );
  return {
    channels: bytes.readUInt16LE(22),
    rate: bytes.readUInt32LE(24),
    bits: bytes.readUInt16LE(34),
    seconds: bytes.readUInt32LE(40) / (16_000 * bytes.readUInt16LE(22)),
    rms: Math.sqrt(samples.reduce((a, s) => a + s * s, 0) / Math.max(1, samples.length)),
  };
}

/** Waits (bounded) for the recording callbacks of `sid` to reach `count`. */
async function callbacks(path: string, count: number) {
  const end = Date.now() + 10_000;
  for (;;) {
    const seen = fx.web.seen.filter((s) => s.path === path);
    if (seen.length >= count || Date.now() > end) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!TOOLS)('call recordings', () => {
  it('Record=true on Calls create records the whole call, with recordingStatusCallback', async () => {
    const peer = await startCallee('uas-late-answer.xml');
    const doc = new VoiceResponse();
    doc.say('This call is recorded.');
    doc.pause({ length: 4 });
    doc.hangup();
    const call = await fx.t.client.calls.create({
      to: peer.uri,
      from: '+15550008000',
      twiml: doc.toString(),
      record: true,
      recordingChannels: 'dual',
      recordingStatusCallback: fx.web.url + '/rec-status',
      recordingStatusCallbackEvent: ['in-progress', 'completed'],
    });
    const peerRun = await peer.run.done;
    expect(peerRun.code, peerRun.stdout.slice(-1500)).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');

    const seen = await callbacks('/rec-status', 2);
    expect(seen.map((s) => s.params.RecordingStatus)).toEqual(['in-progress', 'completed']);
    expect(seen.every((s) => s.signatureValid)).toBe(true);
    const done = seen[1]!.params;
    expect(done).toMatchObject({
      CallSid: call.sid,
      RecordingSource: 'OutboundAPI',
      RecordingChannels: '2',
    });

    const recordings = await fx.t.client.recordings.list({ callSid: call.sid });
    expect(recordings).toHaveLength(1);
    const rec = recordings[0]!;
    expect(rec.sid).toBe(done.RecordingSid);
    expect(rec).toMatchObject({ status: 'completed', source: 'OutboundAPI', channels: 2 });
    const fetched = await fx.t.client.calls(call.sid).fetch();
    // The recording spans the answered call (Say + 4 s pause ≈ 5–6 s), sound all along (the
    // callee speaks while we pause), so trimming (Twilio's default here) leaves it whole.
    expect(Math.abs(Number(rec.duration) - Number(fetched.duration))).toBeLessThanOrEqual(1);
    expect(Number(rec.duration)).toBeGreaterThanOrEqual(4);
    expect(done.RecordingDuration).toBe(rec.duration);
    const wav = await download(rec.sid);
    expect(wav).toMatchObject({ channels: 2, rate: 8000, bits: 16 });
    expect(Math.abs(wav.seconds - Number(rec.duration))).toBeLessThanOrEqual(0.6);
    // Both parties are in it: the callee's speech (pcap) and our <Say>.
    expect(wav.rms).toBeGreaterThan(100);
  }, 90_000);

  it('Record=true trims the silence by default (Twilio), and keeps it with Trim=do-not-trim', async () => {
    // sipp's built-in UAS sends no audio: the call is two seconds of silence.
    const silent = new VoiceResponse();
    silent.pause({ length: 2 });
    silent.hangup();
    const record = async (trim?: 'do-not-trim') => {
      const peer = await startCallee();
      const call = await fx.t.client.calls.create({
        to: peer.uri,
        from: '+15550008000',
        twiml: silent.toString(),
        record: true,
        ...(trim ? { trim } : {}),
        recordingStatusCallback: fx.web.url + `/rec-silent-${trim ?? 'default'}`,
        recordingStatusCallbackEvent: ['completed', 'absent'],
      });
      expect((await peer.run.done).code).toBe(0);
      expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
      const [event] = await callbacks(`/rec-silent-${trim ?? 'default'}`, 1);
      const [rec] = await fx.t.client.recordings.list({ callSid: call.sid });
      return { event: event!.params, rec: rec!, wav: await download(rec!.sid) };
    };
    const trimmed = await record();
    expect(trimmed.event).toMatchObject({ RecordingStatus: 'absent', RecordingDuration: '0' });
    expect([trimmed.rec.status, trimmed.rec.duration]).toEqual(['absent', '0']);
    expect(trimmed.wav.seconds).toBe(0);
    const kept = await record('do-not-trim');
    expect(kept.event.RecordingStatus).toBe('completed');
    expect(kept.rec.status).toBe('completed');
    expect(Number(kept.rec.duration)).toBeGreaterThanOrEqual(2);
    expect(Math.abs(kept.wav.seconds - Number(kept.rec.duration))).toBeLessThanOrEqual(0.6);
  }, 90_000);

  it('<Dial record="record-from-answer-dual"> records the bridged call on two channels and reports it to the action', async () => {
    const peer = await startCallee('uas-late-answer.xml');
    const doc = new VoiceResponse();
    doc
      .dial({
        timeout: 10,
        timeLimit: 3,
        action: '/rec-dialed',
        record: 'record-from-answer-dual',
        recordingStatusCallback: '/dial-rec-status',
        recordingStatusCallbackEvent: ['in-progress', 'completed'],
      })
      .sip(peer.uri);
    fx.web.routes.set('/rec-dial', doc.toString());
    fx.web.routes.set('/rec-dialed', new VoiceResponse().hangup().toString());
    await fx.t.client.incomingPhoneNumbers.create({
      phoneNumber: '+15550008001',
      voiceUrl: fx.web.url + '/rec-dial',
    });
    const caller = await callIn(fx, '+15550008001');
    expect(caller.code, caller.stdout.slice(-1500)).toBe(0);
    expect((await peer.run.done).code).toBe(0);

    const dialed = fx.web.seen.find((s) => s.path === '/rec-dialed')!.params;
    expect(dialed.DialCallStatus).toBe('completed');
    expect(dialed.RecordingSid).toMatch(/^RE[0-9a-f]{32}$/);
    const seconds = Number(dialed.RecordingDuration);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThanOrEqual(4);
    const seen = await callbacks('/dial-rec-status', 2);
    expect(seen.map((s) => [s.params.RecordingStatus, s.params.RecordingSource])).toEqual([
      ['in-progress', 'DialVerb'],
      ['completed', 'DialVerb'],
    ]);
    const rec = await fx.t.client.recordings(dialed.RecordingSid!).fetch();
    // Twilio files a <Dial> recording under the parent call.
    expect(rec).toMatchObject({
      callSid: dialed.CallSid,
      source: 'DialVerb',
      status: 'completed',
      channels: 2,
    });
    const wav = await download(rec.sid);
    expect(wav.channels).toBe(2);
    expect(Math.abs(wav.seconds - seconds)).toBeLessThanOrEqual(0.6);
    expect(wav.rms).toBeGreaterThan(100);
  }, 90_000);
});
