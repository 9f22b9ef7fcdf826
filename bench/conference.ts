// bench/conference: cost of the conference mixer per 20 ms tick. N members, each with a frame
// of speech-like noise, are read the way the send phase reads them (every member once per
// tick, plus the recorder's room source); reports µs per tick and per member, and what share
// of one 20 ms tick a room of that size takes. It measures the mixing only (no sockets): the
// RTP cost per member is the one bench/media.ts measures.
//   npx tsx bench/conference.ts [--members 2,10,50,250] [--ticks 5000]
import { Mixer, type MediaSession } from '../src/media/index.js';
import type { AudioSource } from '../src/media/index.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const sizes = arg('members', '2,10,50,250').split(',').map(Number);
const ticks = Number(arg('ticks', '5000'));

/** Just what the mixer touches of a session. */
function fakeSession(links: AudioSource[]): MediaSession {
  const inFrame = new Int16Array(160);
  for (let i = 0; i < 160; i++) inFrame[i] = Math.round((Math.random() - 0.5) * 8000);
  return {
    inFrame,
    inFrameValid: true,
    isClosed: false,
    once: () => undefined,
    off: () => undefined,
    setLink: (s: AudioSource | undefined) => s && links.push(s),
  } as unknown as MediaSession;
}

for (const n of sizes) {
  const mixer = new Mixer();
  const links: AudioSource[] = [];
  for (let i = 0; i < n; i++) mixer.add(fakeSession(links));
  const out = new Int16Array(160);
  for (let t = 0; t < 200; t++) for (const l of links) l.read(out, t); // warm up
  const start = process.hrtime.bigint();
  for (let t = 200; t < 200 + ticks; t++) {
    for (const l of links) l.read(out, t);
    mixer.room.read(out, t);
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / ticks;
  console.log(
    `${String(n).padStart(4)} members: ${us.toFixed(1)} µs/tick, ${(us / n).toFixed(2)} µs/member, ` +
      `${((us / 20_000) * 100).toFixed(2)} % of a 20 ms tick`,
  );
}
