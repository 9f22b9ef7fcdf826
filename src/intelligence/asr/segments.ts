// Where someone speaks in one channel: 10 ms frames whose energy stands above the channel's
// noise floor, joined across short pauses and padded, as [startFrame, endFrame) pairs at
// pocketsphinx's 100 frames a second. Each segment is decoded as one utterance, so the
// decoder's cepstral mean is that segment's own (see ./pocketsphinx.ts for why that matters).

const FRAME = 160; // samples of 16 kHz audio in 10 ms
/** Above the floor by this much (dB) counts as speech. */
const ABOVE_FLOOR_DB = 12;
/** Never below this absolute level (dBFS): dithered digital silence is not speech. */
const MIN_DB = -55;
/** A pause shorter than this stays inside the segment (frames). */
const JOIN = 30;
const PAD = 15;
const MIN_SPEECH = 8;
/** Longer segments are cut at their quietest frame (30 s). */
const MAX_FRAMES = 3000;

export function speechSegments(pcm: Int16Array): [number, number][] {
  const n = Math.floor(pcm.length / FRAME);
  const db = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let e = 0;
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) e += pcm[i]! * pcm[i]!;
    db[f] = 10 * Math.log10(e / FRAME / (32768 * 32768) + 1e-12);
  }
  // The noise floor: the 10th percentile of frame levels.
  const sorted = [...db].sort((a, b) => a - b);
  const floor = sorted[Math.floor(n * 0.1)] ?? -120;
  const threshold = Math.max(floor + ABOVE_FLOOR_DB, MIN_DB);
  const raw: [number, number][] = [];
  let start = -1;
  let last = -1;
  for (let f = 0; f < n; f++) {
    if (db[f]! < threshold) continue;
    if (start >= 0 && f - last <= JOIN) last = f;
    else {
      if (start >= 0) raw.push([start, last + 1]);
      start = f;
      last = f;
    }
  }
  if (start >= 0) raw.push([start, last + 1]);
  const out: [number, number][] = [];
  for (const [s, e] of raw) {
    if (e - s < MIN_SPEECH) continue;
    let a = Math.max(0, s - PAD);
    const b = Math.min(n, e + PAD);
    if (out.length > 0 && a < out.at(-1)![1]) a = out.at(-1)![1];
    // Cut long stretches at their quietest frame so no utterance exceeds MAX_FRAMES.
    while (b - a > MAX_FRAMES) {
      let cut = a + MAX_FRAMES / 2;
      for (let f = a + MAX_FRAMES / 2; f < a + MAX_FRAMES; f++) if (db[f]! < db[cut]!) cut = f;
      out.push([a, cut]);
      a = cut;
    }
    out.push([a, b]);
  }
  return out;
}
