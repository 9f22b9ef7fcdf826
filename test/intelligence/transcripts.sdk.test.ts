// Conversational Intelligence as a Twilio developer meets it: the official SDK against the
// running platform. A text transcript (Switchboard's extension) is analysed by a custom
// utterance-state operator trained from the account's own examples and by prebuilt
// operators; bad input gets specific errors and nothing stays in progress.
import { createServer, type Server } from 'node:http';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/until.js';

let t: TestPlatform;
let hookServer: Server;
let hookUrl = '';
const hooks: { params: Record<string, string>; valid: boolean }[] = [];

const LENDING = {
  states: [
    {
      name: 'rate quoted',
      examples: [
        'I can offer you a rate of 3%',
        'the interest rate would be 4.5 percent',
        'we can do two point nine percent APR',
        'your rate is going to be 5 percent',
        'the best rate I have is six percent',
      ],
      extract: 'percent',
    },
    {
      name: 'objection',
      examples: [
        'that is too expensive for me',
        'I think that rate is too high',
        'I am not sure I can afford that',
        'that seems like a lot of money',
        'another bank offered me a better deal',
      ],
    },
    {
      name: 'amount requested',
      examples: [
        'I would like to borrow five thousand dollars',
        'I need a loan of $20,000',
        'can I get ten thousand dollars',
        'I want to borrow 3000 dollars',
        'we need about fifty thousand for the house',
      ],
      extract: 'money',
    },
  ],
  none_examples: [
    'hello how are you',
    'thank you for calling',
    'have a nice day',
    'let me check that for you',
    'can you hold on a moment',
  ],
};

beforeAll(async () => {
  t = await startTestPlatform({ asrEngine: 'none' });
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const valid = twilio.validateRequest(
        t.authToken,
        String(req.headers['x-twilio-signature']),
        hookUrl,
        params,
      );
      hooks.push({ params, valid });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const address = hookServer.address();
  hookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/done`;
}, 60_000);

afterAll(async () => {
  await t?.cleanup();
  hookServer?.close();
});

const v2 = () => t.client.intelligence.v2;

async function settled(sid: string) {
  return until(
    `transcript ${sid} to finish`,
    async () => {
      const tr = await v2().transcripts(sid).fetch();
      return tr.status === 'completed' || tr.status === 'failed' ? tr : undefined;
    },
    30_000,
  );
}

describe('intelligence through the SDK', () => {
  it('labels states, extracts values and runs prebuilt operators on a text transcript', async () => {
    const service = await v2().services.create({
      uniqueName: 'lending-desk',
      languageCode: 'en-US',
      autoRedaction: true,
      webhookUrl: hookUrl,
    });
    expect(service.sid).toMatch(/^GA[0-9a-f]{32}$/);
    expect(service.webhookHttpMethod).toBe('POST');

    const types = await v2().operatorType.list();
    const stateType = types.find((x) => x.name === 'utterance-state');
    expect(stateType?.configurable).toBe(true);
    expect(stateType?.configSchema).toMatchObject({ required: ['states'] });

    const custom = await v2().customOperators.create({
      friendlyName: 'Lending states',
      operatorType: 'utterance-state',
      config: LENDING,
    });
    expect(custom.sid).toMatch(/^LY[0-9a-f]{32}$/);
    expect(custom.version).toBe(1);
    const prebuilt = await v2().prebuiltOperators.list();
    const byName = (n: string) => prebuilt.find((p) => p.friendlyName === n)!.sid;
    for (const sid of [
      custom.sid,
      byName('Sentiment Analysis'),
      byName('Recording Disclosure'),
      byName('Entity Recognition'),
      byName('PII Redaction'),
    ])
      await v2().operatorAttachment(service.sid, sid).create();
    const attached = await v2().operatorAttachments(service.sid).fetch();
    expect(attached.operatorSids).toHaveLength(5);

    const transcript = await v2().transcripts.create({
      serviceSid: service.sid,
      customerKey: 'loan-42',
      channel: {
        media_properties: {
          transcript: [
            {
              channel_participant: 1,
              text: 'Thank you for calling. This call may be recorded for quality.',
            },
            { channel_participant: 2, text: 'Hi, I would like to borrow five thousand dollars.' },
            { channel_participant: 1, text: 'Sure. I can offer you a rate of 3% today.' },
            {
              channel_participant: 2,
              text: 'Hmm, that rate is too high for me. Call me at 415 555 1234.',
            },
          ],
        },
      },
    });
    expect(['queued', 'in-progress', 'completed']).toContain(transcript.status);
    const done = await settled(transcript.sid);
    expect(done.status).toBe('completed');
    expect(done.customerKey).toBe('loan-42');

    const sentences = await v2().transcripts(transcript.sid).sentences.list();
    expect(sentences.length).toBeGreaterThanOrEqual(6);
    expect(sentences.map((s) => s.mediaChannel)).toContain(2);
    expect(sentences[0]!.sentenceIndex).toBe(0);
    // The Service redacts: the phone number is gone unless Redacted=false.
    const last = sentences.at(-1)!;
    expect(last.transcript).toContain('[PHONE]');
    const raw = await v2().transcripts(transcript.sid).sentences.list({ redacted: false });
    expect(raw.at(-1)!.transcript).toContain('415 555 1234');

    const results = await v2().transcripts(transcript.sid).operatorResults.list();
    expect(results).toHaveLength(5);
    const states = results.find((r) => r.operatorSid === custom.sid)!;
    expect(states.operatorType).toBe('utterance-classify');
    const utterances = states.utteranceResults as {
      utterance_index: number;
      label: string;
      probability: number;
      extract_results?: { type: string; normalized_value: number; unit: string; text: string }[];
    }[];
    const rate = utterances.find((u) => u.label === 'rate quoted');
    expect(rate?.extract_results?.[0]).toMatchObject({
      type: 'percent',
      normalized_value: 0.03,
      unit: 'percent',
    });
    const amount = utterances.find((u) => u.label === 'amount requested');
    expect(amount?.extract_results?.[0]).toMatchObject({
      type: 'money',
      normalized_value: 5000,
      unit: 'USD',
    });
    expect(utterances.map((u) => u.label)).toContain('objection');
    expect(sentences[rate!.utterance_index]!.transcript).toContain('3%');

    const disclosure = await v2()
      .transcripts(transcript.sid)
      .operatorResults(byName('Recording Disclosure'))
      .fetch();
    expect(disclosure.extractMatch).toBe(true);
    const sentiment = results.find((r) => r.operatorSid === byName('Sentiment Analysis'))!;
    expect(sentiment.operatorType).toBe('conversation-classify');
    expect(['positive', 'neutral', 'negative']).toContain(sentiment.predictedLabel);

    const hook = await until('the completion webhook', () =>
      hooks.find((h) => h.params.transcript_sid === transcript.sid),
    );
    expect(hook.valid).toBe(true);
    expect(hook.params.event_type).toBe('voice_intelligence_transcript_available');

    // Updating the operator makes a new version (retrained).
    const updated = await v2()
      .customOperators(custom.sid)
      .update({
        friendlyName: 'Lending states v2',
        config: { ...LENDING, states: LENDING.states.slice(0, 2) },
      });
    expect(updated.version).toBe(2);

    const listed = await v2().transcripts.list({ serviceSid: service.sid });
    expect(listed.map((x) => x.sid)).toContain(transcript.sid);
    const media = await v2().transcripts(transcript.sid).media().fetch();
    expect(media.mediaUrl).toBeNull();
  }, 60_000);

  it('refuses bad input with specific errors', async () => {
    const service = await v2().services.create({ uniqueName: 'bad-input' });
    await expect(v2().services.create({ uniqueName: 'bad-input' })).rejects.toMatchObject({
      status: 409,
    });
    const refused = async (p: Promise<unknown>, status: number, text: RegExp) => {
      const err = (await p.then(
        () => undefined,
        (e: unknown) => e,
      )) as { status: number; message: string } | undefined;
      expect(err, `expected a refusal matching ${text}`).toBeDefined();
      expect(err!.status).toBe(status);
      expect(err!.message).toMatch(text);
    };
    await refused(
      v2().transcripts.create({
        serviceSid: service.sid,
        channel: { media_properties: { transcript: [] } },
      }),
      400,
      /no text/,
    );
    await refused(
      v2().transcripts.create({
        serviceSid: service.sid,
        channel: {
          media_properties: { transcript: [{ channel_participant: 1, text: 'x'.repeat(600_000) }] },
        },
      }),
      400,
      /longer than/,
    );
    await refused(
      v2().customOperators.create({ friendlyName: 'x', operatorType: 'mind-reading', config: {} }),
      400,
      /Unknown OperatorType/,
    );
    await refused(
      v2().customOperators.create({
        friendlyName: 'x',
        operatorType: 'utterance-state',
        config: { states: [{ name: 'a' }] },
      }),
      400,
      /config_schema.*examples/,
    );
    await refused(
      v2().customOperators.create({
        friendlyName: 'x',
        operatorType: 'generative-json',
        config: { prompt: 'summarise' },
      }),
      400,
      /language model/,
    );
    await refused(
      v2().transcripts.create({
        serviceSid: service.sid,
        channel: { media_properties: { source_sid: 'RE' + '0'.repeat(32) } },
      }),
      404,
      /Recording/,
    );
    // A media URL with no speech engine configured: failed with the reason, not stuck.
    const media = await v2().transcripts.create({
      serviceSid: service.sid,
      channel: { media_properties: { media_url: 'http://127.0.0.1:9/nothing.wav' } },
    });
    const failed = await settled(media.sid);
    expect(failed.status).toBe('failed');
    const raw = await request(t, 'GET', `/intelligence/v2/Transcripts/${media.sid}`);
    expect(raw.json.failure_reason).toMatch(/no speech recognition engine/);
  }, 60_000);
});
