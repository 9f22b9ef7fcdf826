// End to end: a call recorded on two channels — our <Say> on one side, a sipp callee playing
// its prompt (g711a.pcap) on the other — becomes a transcript by itself (the Service's
// AutoTranscribe) once the recording completes, recognised by pocketsphinx channel by
// channel, analysed by the Service's operators, and found by search. A recording still in
// progress is refused when a transcript of it is asked for through the SDK (source_sid). Needs sipp, pocketsphinx and sox:
// skipped loudly without them, failing under CI.
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { PocketSphinx } from '../../src/intelligence/asr/pocketsphinx.js';
import { haveSipp } from '../sip/sipp.js';
import { request } from '../support/platform.js';
import { until } from '../support/until.js';
import { startCallee, useVoicePlatform, waitForCallStatus } from '../voice/voice-platform.js';

const { VoiceResponse } = twilio.twiml;
const asrMissing = await new PocketSphinx().unavailable();
const TOOLS = haveSipp() && !asrMissing;
if (!TOOLS) {
  const why = asrMissing ?? 'sipp is not installed';
  if (process.env.CI) throw new Error(`call transcript test needs its tools: ${why}`);
  console.warn(`SKIPPING the recorded-call transcript test: ${why}`);
}
const fx = useVoicePlatform(TOOLS);

describe.skipIf(!TOOLS)('a recorded call becomes a transcript', () => {
  it('transcribes both channels, runs the operators, and search finds it', async () => {
    const v2 = fx.t.client.intelligence.v2;
    const service = await v2.services.create({
      uniqueName: 'calls',
      autoTranscribe: true,
      autoRedaction: true,
      mediaRedaction: true,
    });
    // A Service without auto-transcribe makes nothing by itself.
    const manual = await v2.services.create({ uniqueName: 'manual' });
    const prebuilt = await v2.prebuiltOperators.list();
    const disclosure = prebuilt.find((p) => p.friendlyName === 'Recording Disclosure')!.sid;
    await v2.operatorAttachment(service.sid, disclosure).create();

    const peer = await startCallee('uas-late-answer.xml');
    const doc = new VoiceResponse();
    doc.say('Thank you for calling. This call is recorded for quality and training.');
    doc.pause({ length: 4 });
    doc.hangup();
    const call = await fx.t.client.calls.create({
      to: peer.uri,
      from: '+15550008000',
      twiml: doc.toString(),
      record: true,
      recordingChannels: 'dual',
    });
    // While the call runs, its recording cannot be transcribed yet.
    const live = await until('the live recording', async () => {
      const list = await fx.t.client.calls(call.sid).recordings.list();
      return list[0];
    });
    const early = await v2.transcripts
      .create({ serviceSid: service.sid, channel: { media_properties: { source_sid: live.sid } } })
      .then(
        () => undefined,
        (e: { status: number; message: string }) => e,
      );
    expect(early?.status).toBe(409);
    expect(early?.message).toMatch(/in-progress/);

    const peerRun = await peer.run.done;
    expect(peerRun.code, peerRun.stdout.slice(-1500)).toBe(0);
    expect(await waitForCallStatus(fx, call.sid, 'completed')).toBe('completed');
    const rec = await until('the completed recording', async () => {
      const r = await fx.t.client.recordings(live.sid).fetch();
      return r.status === 'completed' ? r : undefined;
    });
    expect(rec.channels).toBe(2);

    // Auto-transcribe made the transcript when the recording completed: one, however often
    // the recording is looked at.
    const transcript = await until('the auto-transcribed transcript', async () => {
      const list = await v2.transcripts.list({ sourceSid: rec.sid });
      return list[0];
    });
    expect(transcript.serviceSid).toBe(service.sid);
    expect(transcript.channel).toEqual({ media_properties: { source_sid: rec.sid } });
    const done = await until(
      'the transcript',
      async () => {
        const tr = await v2.transcripts(transcript.sid).fetch();
        return tr.status === 'completed' || tr.status === 'failed' ? tr : undefined;
      },
      // Recognition takes seconds; on a loaded machine, much longer.
      180_000,
    );
    const raw = await request(fx.t, 'GET', `/intelligence/v2/Transcripts/${transcript.sid}`);
    expect(done.status, String(raw.json.failure_reason)).toBe('completed');
    expect(done.duration).toBeGreaterThan(0);
    const sentences = await v2.transcripts(transcript.sid).sentences.list({ wordTimestamps: true });
    // Both speakers: the <Say> on one channel, the callee's prompt on the other.
    expect(new Set(sentences.map((s) => s.mediaChannel))).toEqual(new Set([1, 2]));
    for (const s of sentences) {
      expect(Number(s.endTime)).toBeGreaterThan(Number(s.startTime));
      expect(s.words.length).toBeGreaterThan(0);
    }
    // What was recognised (telephone TTS and sipp's prompt are hard for pocketsphinx:
    // bench/intelligence measures the word error rate).
    const said = sentences.map((s) => s.transcript).join(' ');
    expect(said.split(' ').length).toBeGreaterThanOrEqual(2);

    const all = await v2.transcripts.list({ sourceSid: rec.sid });
    expect(all.map((x) => x.sid)).toEqual([transcript.sid]);
    expect((await v2.transcripts.list({ serviceSid: manual.sid })).length).toBe(0);

    // The Service redacts media: the Media resource points at the redacted copy (16-bit WAV of
    // the call's two channels), the recording itself with Redacted=false.
    const media = await v2.transcripts(transcript.sid).media().fetch();
    expect(media.mediaUrl).toMatch(new RegExp(`/Transcripts/${transcript.sid}/Media\\.wav$`));
    const audio = await fetch(media.mediaUrl, {
      headers: {
        authorization:
          'Basic ' + Buffer.from(`${fx.t.accountSid}:${fx.t.authToken}`).toString('base64'),
      },
    });
    expect(audio.status).toBe(200);
    const bytes = Buffer.from(await audio.arrayBuffer());
    expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
    expect(bytes.readUInt16LE(22)).toBe(2);
    const original = await v2.transcripts(transcript.sid).media().fetch({ redacted: false });
    expect(original.mediaUrl).toMatch(new RegExp(`/Recordings/${rec.sid}\\.wav$`));

    const result = await v2.transcripts(transcript.sid).operatorResults(disclosure).fetch();
    expect(result.operatorType).toBe('extract');

    // Search by the recognised words, longest first: a short one may be a stop word that
    // full-text search drops (PostgreSQL's english configuration), so the first three are tried.
    const candidates = [...new Set(said.split(' ').filter((w) => /^[a-z]+$/.test(w)))]
      .sort((a, b) => b.length - a.length)
      .slice(0, 3);
    const hits: string[] = [];
    for (const word of candidates) {
      const found = await request(
        fx.t,
        'GET',
        `/intelligence/v2/Search/Transcripts?Text=${encodeURIComponent(word)}`,
      );
      hits.push(...(found.json.transcripts as { sid: string }[]).map((x) => x.sid));
    }
    expect(hits, said).toContain(transcript.sid);
  }, 300_000);
});
