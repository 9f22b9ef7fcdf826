// Public surface of the media engine (RTP, G.711, SDP offer/answer, DTMF, prompts, recording,
// bridging, conferences). Other folders import only from here.
//
// Typical use by the SIP layer (UAS):
//   const media = createMediaEngine({ bindAddress, publicAddress, portRange, rtpTimeoutS, dataDir, logger });
//   const session = await media.createSession();
//   const answer = session.answerOffer(invite.body);   // string, or undefined → reply 488
//   session.on('dtmf', (e) => …); session.on('rtp-timeout', () => hang up);
//   await session.play(await media.prompts.say('Hello')).done;
//   session.close();                                     // on BYE; releases the port
// UAC: `session.createOffer()` → INVITE body; `session.applyAnswer(ok.body)` on 200 OK.
// Hold: `session.createOffer({ direction: 'sendonly' })` for our re-INVITE; a peer's re-INVITE
// goes through `session.answerOffer(body)` like the first one.

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
  AudioSource,
  MediaSessionEvents,
} from './types.js';
