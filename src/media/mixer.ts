// A conference mixer: every tick, each participant hears the sum of what the others sent,
// clipped to 16 bits. The total is computed once per tick (lazily, by the first participant
// that asks) and each participant gets total minus its own frame. Prompts injected into the
// room (entry/exit tones) are part of the total, so every participant hears them.

import { SAMPLES_PER_TICK } from './clock.js';
import { Player } from './player.js';
import type { MediaSession } from './rtp-session.js';
import type { AudioSource, Playback, Prompt } from './types.js';

interface Member {
  session: MediaSession;
  muted: boolean;
  onClosed: () => void;
}

export class Mixer {
  private readonly members = new Map<MediaSession, Member>();
  private readonly total = new Int32Array(SAMPLES_PER_TICK);
  private readonly injected = new Set<Player>();
  private readonly scratch = new Int16Array(SAMPLES_PER_TICK);
  private mixedTick = -1;

  get size(): number {
    return this.members.size;
  }

  /** Adds a leg; `muted` legs hear the others but are not heard. */
  add(session: MediaSession, options: { muted?: boolean } = {}): void {
    if (this.members.has(session)) return;
    const onClosed = (): void => this.remove(session);
    const member: Member = { session, muted: options.muted ?? false, onClosed };
    this.members.set(session, member);
    session.once('closed', onClosed);
    session.setLink({ read: (out, tick) => this.read(member, out, tick) });
  }

  setMuted(session: MediaSession, muted: boolean): void {
    const m = this.members.get(session);
    if (m) m.muted = muted;
  }

  remove(session: MediaSession): void {
    const m = this.members.get(session);
    if (!m) return;
    this.members.delete(session);
    session.off('closed', m.onClosed);
    if (!session.isClosed) session.setLink(undefined);
  }

  close(): void {
    for (const s of [...this.members.keys()]) this.remove(s);
    for (const p of [...this.injected]) p.end('stopped');
  }

  /** Plays a prompt into the room: every member hears it, mixed with the others. */
  inject(prompt: Prompt): Playback {
    const player = new Player(prompt, {}, (p) => this.injected.delete(p));
    this.injected.add(player);
    return player;
  }

  /**
   * The whole room (every speaking member plus injected prompts) as one source, for a
   * recorder of the conference. Reading it in a tick no member read yet mixes that tick.
   */
  readonly room: AudioSource = {
    read: (out, tick) => {
      this.mix(tick);
      let any = false;
      for (let i = 0; i < SAMPLES_PER_TICK; i++) {
        let v = this.total[i] ?? 0;
        if (v > 32767) v = 32767;
        else if (v < -32768) v = -32768;
        out[i] = v;
        if (v !== 0) any = true;
      }
      return any;
    },
  };

  private speaks(m: Member): boolean {
    return !m.muted && m.session.inFrameValid && !m.session.isClosed;
  }

  private mix(tick: number): void {
    if (this.mixedTick === tick) return;
    this.mixedTick = tick;
    const t = this.total;
    t.fill(0);
    for (const m of this.members.values()) {
      if (!this.speaks(m)) continue;
      const f = m.session.inFrame;
      for (let i = 0; i < SAMPLES_PER_TICK; i++) t[i] = (t[i] ?? 0) + (f[i] ?? 0);
    }
    for (const p of this.injected) {
      if (!p.read(this.scratch)) continue;
      const f = this.scratch;
      for (let i = 0; i < SAMPLES_PER_TICK; i++) t[i] = (t[i] ?? 0) + (f[i] ?? 0);
    }
  }

  private read(member: Member, out: Int16Array, tick: number): boolean {
    this.mix(tick);
    const own = this.speaks(member) ? member.session.inFrame : undefined;
    let any = false;
    for (let i = 0; i < SAMPLES_PER_TICK; i++) {
      let v = (this.total[i] ?? 0) - (own ? (own[i] ?? 0) : 0);
      if (v > 32767) v = 32767;
      else if (v < -32768) v = -32768;
      out[i] = v;
      if (v !== 0) any = true;
    }
    return any;
  }
}
