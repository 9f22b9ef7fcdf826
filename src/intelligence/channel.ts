// The Channel parameter of a new transcript: where its media is (a recording's SID or a media
// URL) or, as a Switchboard extension, the conversation's text already written down
// (`media_properties.transcript`: [{channel_participant, text}, …] in speaking order).
import { TwilioError, Errors, isSid } from '../core/index.js';

export interface TextTurn {
  readonly channel: number;
  readonly text: string;
}

export type TranscriptSource =
  | { readonly kind: 'text'; readonly turns: readonly TextTurn[] }
  | { readonly kind: 'recording'; readonly recordingSid: string }
  | { readonly kind: 'media'; readonly url: string };

/** Longest text transcript accepted, in characters (about ten hours of speech). */
export const MAX_TRANSCRIPT_CHARS = 500_000;
export const MAX_TURNS = 20_000;

const bad = (why: string): never => {
  throw new TwilioError(Errors.invalidChannel, why);
};

export function parseChannel(raw: string): {
  channel: Record<string, unknown>;
  source: TranscriptSource;
} {
  let channel: unknown;
  try {
    channel = JSON.parse(raw);
  } catch {
    return bad('Channel must be a JSON object');
  }
  if (typeof channel !== 'object' || channel === null || Array.isArray(channel))
    return bad('Channel must be a JSON object');
  const media = (channel as Record<string, unknown>).media_properties;
  if (typeof media !== 'object' || media === null)
    return bad('Channel.media_properties is required');
  const m = media as Record<string, unknown>;
  const given = ['transcript', 'source_sid', 'media_url'].filter((k) => m[k] !== undefined);
  if (given.length !== 1)
    bad('Channel.media_properties needs exactly one of transcript, source_sid or media_url');
  const c = channel as Record<string, unknown>;
  if (m.source_sid !== undefined) {
    if (!isSid(m.source_sid, 'RE'))
      bad('Channel.media_properties.source_sid must be a Recording SID (RE…)');
    return { channel: c, source: { kind: 'recording', recordingSid: m.source_sid as string } };
  }
  if (m.media_url !== undefined) {
    const url = m.media_url;
    const ok = (() => {
      try {
        return typeof url === 'string' && ['http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        return false;
      }
    })();
    if (!ok) bad('Channel.media_properties.media_url must be an http(s) URL');
    return { channel: c, source: { kind: 'media', url: url as string } };
  }
  const turns = m.transcript;
  if (!Array.isArray(turns)) return bad('Channel.media_properties.transcript must be an array');
  if (turns.length > MAX_TURNS)
    bad(`Channel.media_properties.transcript has more than ${MAX_TURNS} entries`);
  let chars = 0;
  const out: TextTurn[] = [];
  turns.forEach((t: unknown, i) => {
    if (typeof t !== 'object' || t === null) bad(`transcript[${i}] must be an object`);
    const { channel_participant: participant, text } = t as Record<string, unknown>;
    if (
      !Number.isInteger(participant) ||
      (participant as number) < 1 ||
      (participant as number) > 16
    )
      bad(`transcript[${i}].channel_participant must be an integer from 1 to 16`);
    if (typeof text !== 'string') bad(`transcript[${i}].text must be a string`);
    chars += (text as string).length;
    if ((text as string).trim() !== '')
      out.push({ channel: participant as number, text: text as string });
  });
  if (chars > MAX_TRANSCRIPT_CHARS)
    bad(`Channel.media_properties.transcript is longer than ${MAX_TRANSCRIPT_CHARS} characters`);
  if (out.length === 0) bad('Channel.media_properties.transcript has no text');
  return { channel: c, source: { kind: 'text', turns: out } };
}
