// Signals and comparisons for the media tests.

/** A speech-like test signal: tones that glide and pulse (not periodic, so correlation peaks once). */
export function testSignal(seconds: number, rate = 8000, amplitude = 9000): Int16Array {
  const n = Math.round(seconds * rate);
  const out = new Int16Array(n);
  let phase1 = 0;
  let phase2 = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f1 = 300 + 250 * Math.sin(2 * Math.PI * 0.7 * t);
    const f2 = 900 + 400 * Math.sin(2 * Math.PI * 0.31 * t + 1);
    phase1 += (2 * Math.PI * f1) / rate;
    phase2 += (2 * Math.PI * f2) / rate;
    const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 3.1 * t);
    out[i] = Math.round(amplitude * envelope * (0.6 * Math.sin(phase1) + 0.4 * Math.sin(phase2)));
  }
  return out;
}

export function rms(x: Int16Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (x[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/**
 * Best normalised cross-correlation of `ref` inside `rec` over lags 0..maxLag samples.
 * Returns the peak value (1 = identical shape) and its lag.
 */
export function bestCorrelation(
  ref: Int16Array,
  rec: Int16Array,
  maxLag: number,
): { value: number; lag: number } {
  let best = { value: -1, lag: 0 };
  const n = ref.length;
  let refEnergy = 0;
  for (let i = 0; i < n; i++) refEnergy += (ref[i] ?? 0) ** 2;
  for (let lag = 0; lag <= maxLag && lag + n <= rec.length; lag++) {
    let dot = 0;
    let recEnergy = 0;
    for (let i = 0; i < n; i++) {
      const r = rec[lag + i] ?? 0;
      dot += (ref[i] ?? 0) * r;
      recEnergy += r * r;
    }
    const v = dot / Math.sqrt(refEnergy * recEnergy || 1);
    if (v > best.value) best = { value: v, lag };
  }
  return best;
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref(),
    ),
  ]);
}

/** UDP payloads of a classic pcap file (Ethernet or Linux cooked, IPv4). */
export function pcapUdpPayloads(file: Buffer): Buffer[] {
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linktype = u32(20);
  const out: Buffer[] = [];
  let o = 24;
  while (o + 16 <= file.length) {
    const incl = u32(o + 8);
    const frame = file.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    const l2 = linktype === 1 ? 14 : linktype === 113 ? 16 : 0;
    const ip = frame.subarray(l2);
    if (ip.length < 20 || ip[0]! >> 4 !== 4 || ip[9] !== 17) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const udpLen = ip.readUInt16BE(ihl + 4);
    out.push(Buffer.from(ip.subarray(ihl + 8, ihl + udpLen)));
  }
  return out;
}

/**
 * Resemblance robust to the gaps a jitter buffer inserts under load: `ref` is cut into
 * 200 ms windows, each is found in `rec` on its own (lags 0..maxLag), and the fraction of
 * windows found with a correlation above 0.9 is returned with the median correlation.
 */
export function windowedResemblance(
  ref: Int16Array,
  rec: Int16Array,
  maxLag: number,
): { median: number; fractionAbove09: number } {
  const win = 1600;
  const values: number[] = [];
  for (let start = 0; start + win <= ref.length; start += win) {
    const part = ref.subarray(start, start + win);
    const from = Math.max(0, start - 800);
    values.push(bestCorrelation(part, rec.subarray(from), maxLag).value);
  }
  values.sort((a, b) => a - b);
  return {
    median: values[Math.floor(values.length / 2)] ?? 0,
    fractionAbove09: values.filter((v) => v > 0.9).length / Math.max(1, values.length),
  };
}
