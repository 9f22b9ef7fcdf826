// The fleet's history of paths: every device's recent track (time, position cell, heading
// sector, speed, RSRP), indexed by (cell, heading sector) so that the predictor can ask "what
// happened next to the devices that passed here going this way?". Outcomes at a threshold
// (seconds until the next poor sample, length of that spell) are computed once per track and
// threshold and reused until the track grows.
export const SECTORS = 8;
/** Entries kept per (cell, sector): the most recent passes count. */
const MAX_PER_KEY = 400;

export interface Track {
  readonly id: number;
  readonly device: string;
  readonly network: string;
  readonly t: number[];
  readonly rsrp: number[];
  readonly speed: number[];
  readonly cells: string[];
  readonly sector: number[];
  /** threshold → [seconds to next poor sample (Infinity: none), its spell's length] per sample */
  outcomes: Map<number, { len: number; toPoor: Float64Array; spell: Float64Array }>;
}

export function sectorOf(heading: number, speed: number): number {
  if (!Number.isFinite(heading) || speed < 1) return -1;
  return Math.floor((((heading % 360) + 360) % 360) / (360 / SECTORS)) % SECTORS;
}

export class PathHistory {
  private readonly tracks: Track[] = [];
  private readonly byDevice = new Map<string, Track>();
  private readonly index = new Map<string, number[]>();
  /** A gap this long starts a new track (the device was off or parked). */
  constructor(private readonly gapMs = 60_000) {}

  /** Appends a device's sample (in time order per device). */
  add(
    device: string,
    network: string,
    t: number,
    cell: string,
    heading: number,
    speed: number,
    rsrp: number,
  ): void {
    this.addPoint(device, network, t, cell, sectorOf(heading, speed), speed, rsrp);
  }

  /**
   * Appends a sample read from the shared history (another node's, or the store's at start):
   * one no later than the device's last is a duplicate or came late, and is left out, so that
   * reading the same points twice changes nothing. False when left out.
   */
  addShared(
    device: string,
    network: string,
    t: number,
    cell: string,
    sector: number,
    speed: number,
    rsrp: number,
  ): boolean {
    const last = this.byDevice.get(device);
    if (last && last.network === network && t <= (last.t.at(-1) ?? -Infinity)) return false;
    this.addPoint(device, network, t, cell, sector, speed, rsrp);
    return true;
  }

  private addPoint(
    device: string,
    network: string,
    t: number,
    cell: string,
    sector: number,
    speed: number,
    rsrp: number,
  ): void {
    let track = this.byDevice.get(device);
    const lastT = track?.t.at(-1);
    if (
      !track ||
      track.network !== network ||
      lastT === undefined ||
      t - lastT > this.gapMs ||
      t < lastT
    ) {
      track = {
        id: this.tracks.length,
        device,
        network,
        t: [],
        rsrp: [],
        speed: [],
        cells: [],
        sector: [],
        outcomes: new Map(),
      };
      this.tracks.push(track);
      this.byDevice.set(device, track);
    }
    const i = track.t.length;
    track.t.push(t);
    track.rsrp.push(rsrp);
    track.speed.push(speed);
    track.cells.push(cell);
    track.sector.push(sector);
    const key = `${network}|${cell}|${sector}`;
    let list = this.index.get(key);
    if (!list) this.index.set(key, (list = []));
    list.push(track.id, i);
    if (list.length > 2 * MAX_PER_KEY) list.splice(0, list.length - 2 * MAX_PER_KEY);
  }

  /** Passes through a cell in a heading sector: [trackId, index, trackId, index, …]. */
  passes(network: string, cell: string, sector: number): readonly number[] {
    return this.index.get(`${network}|${cell}|${sector}`) ?? [];
  }

  /** Passes through a cell in any heading sector (or none: still devices). */
  passCount(network: string, cell: string): number {
    let n = 0;
    for (let s = -1; s < SECTORS; s++) n += this.passes(network, cell, s).length / 2;
    return n;
  }

  track(id: number): Track {
    return this.tracks[id]!;
  }

  get size(): number {
    return this.tracks.length;
  }

  /** Seconds from each sample to the next sample at or below `threshold`, and that spell's length. */
  outcomes(track: Track, threshold: number): { toPoor: Float64Array; spell: Float64Array } {
    const n = track.t.length;
    const hit = track.outcomes.get(threshold);
    if (hit && hit.len === n) return hit;
    const toPoor = new Float64Array(n);
    const spell = new Float64Array(n);
    let nextPoorT = Infinity;
    let nextSpell = 0;
    let spellEnd = -1;
    for (let i = n - 1; i >= 0; i--) {
      const ti = track.t[i]!;
      if (track.rsrp[i]! <= threshold) {
        if (
          spellEnd < 0 ||
          track.t[i + 1] === undefined ||
          track.t[i + 1]! - ti > 5000 ||
          track.rsrp[i + 1]! > threshold
        )
          spellEnd = ti;
        nextPoorT = ti;
        nextSpell = (spellEnd - ti) / 1000 + 1;
      } else spellEnd = -1;
      toPoor[i] = nextPoorT === Infinity ? Infinity : (nextPoorT - ti) / 1000;
      spell[i] = nextSpell;
    }
    const o = { len: n, toPoor, spell };
    if (track.outcomes.size > 8) track.outcomes.clear();
    track.outcomes.set(threshold, o);
    return o;
  }
}
