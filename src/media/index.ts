// Public surface of the media engine (RTP, G.711, SDP offer/answer, DTMF, prompts, recording,
// bridging, conferences). Other folders import only from here. See docs/media.md.
//
// Composition root:
//   const media = createMediaEngine({ bindAddress: config.sipHost,
//     publicAddress: config.sipPublicAddress, portRange: config.rtpPorts,
//     rtpTimeoutS: config.rtpTimeout, dataDir: config.dataDir, logger });
//   … media.close() on shutdown.
//
// SIP layer, incoming call (UAS):
//   const session = await media.createSession();
//   const answer = session.answerOffer(invite.body); // SDP string; undefined → 488; throws SdpParseError → 400
//   session.on('dtmf', (e) => …); session.on('rtp-timeout', () => send BYE);
//   session.close();                                  // on BYE/CANCEL; releases the port
// Outgoing call (UAC): body = session.createOffer(); on 183/200: session.applyAnswer(res.body).
// Hold: body = session.createOffer({ direction: 'sendonly' }) for our re-INVITE
// ('sendrecv' resumes); a peer's re-INVITE goes through session.answerOffer(body).
// SIP INFO DTMF: const d = parseDtmfInfo(contentType, body); if (d) session.receiveInfoDtmf(d.digit, d.durationMs).
//
// Voice engine: session.play(await media.prompts.load(urlOrPath), { loop }).done,
//   media.prompts.say(text, { voice }), session.sendDtmf('1234'),
//   media.record(session, path, { mode: 'both' }).stop(), media.bridge(a, b), media.createMixer().

export { createMediaEngine, MediaEngine, type MediaEngineStats } from './engine.js';
export { MediaSession, type SessionOptions, type SessionStats } from './rtp-session.js';
export { type Bridge } from './bridge.js';
export { Mixer } from './mixer.js';
export { PromptStore, PromptError } from './prompt.js';
export { MediaToolError } from './sox.js';
export { type SayOptions } from './tts.js';
export { espeakLanguage, espeakVoice } from './tts-voices.js';
export { PortRangeError } from './port-pool.js';
export { parseDtmfInfo } from './dtmf.js';
export { encodeWav, readWav, toMono16 } from './wav.js';
export {
  parseSdp,
  serializeSdp,
  createOffer,
  answerOffer,
  readAudio,
  readAnswer,
  SdpParseError,
  type Sdp,
  type SdpMedia,
  type SdpAttribute,
  type LocalMediaInfo,
  type NegotiatedAudio,
  type Direction,
  type CodecName,
} from './sdp.js';
export type {
  MediaEngineOptions,
  Prompt,
  DtmfEvent,
  PlayOptions,
  Playback,
  RecordMode,
  RecordOptions,
  Recording,
  RecordingResult,
  PauseBehavior,
  AudioSource,
  MediaSessionEvents,
} from './types.js';
