// The presence registry: identity → devices, across nodes. Each node is the authority for the
// devices connected to it and tells the others through the shared state's pub/sub (in process
// on the embedded default, Redis with REDIS_URL): a delta per change, numbered, and a beat
// every BEAT_MS carrying the last number, so a node that missed a delta asks for a snapshot.
// A node whose beats stop (crashed, cut off) loses its devices everywhere after STALE_MS:
// lookups read this node's merged copy, never the network, so a call finds a device at once.
import type { ClientDevice, ClientPresence, RegisteredPhone, SharedStateLike } from './types.js';

export const BEAT_MS = 1000;
/** A node silent this long is taken for dead and its devices dropped (documented: ~3 s). */
export const STALE_MS = 3000;
/** Twilio rings at most ten registrations of an identity. */
export const MAX_DEVICES = 10;
const CHANNEL = 'presence:devices';

type Message =
  | { t: 'up'; node: string; v: number; device: ClientDevice }
  | { t: 'down'; node: string; v: number; id: string }
  | { t: 'beat'; node: string; v: number }
  | { t: 'snapshot'; node: string; v: number; devices: ClientDevice[] }
  | { t: 'sync'; node: string; from: string };

interface NodeView {
  devices: Map<string, ClientDevice>;
  v: number;
  lastBeat: number;
}

export type PresenceChange = {
  device: ClientDevice;
  change: 'online' | 'busy' | 'available' | 'offline';
};

export class PresenceRegistry implements ClientPresence {
  private readonly nodes = new Map<string, NodeView>();
  private version = 0;
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(c: PresenceChange) => void>();

  constructor(
    private readonly state: SharedStateLike,
    private readonly nodeId: string,
    private readonly onError: (err: unknown) => void,
  ) {
    this.nodes.set(nodeId, { devices: new Map(), v: 0, lastBeat: Date.now() });
  }

  private get own(): NodeView {
    return this.nodes.get(this.nodeId)!;
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.state.subscribe(CHANNEL, (m) => this.receive(m));
    await this.send({ t: 'sync', node: '*', from: this.nodeId });
    this.timer = setInterval(() => this.beat(), BEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Leaving in order: the others drop this node's devices now, not after STALE_MS.
    for (const id of [...this.own.devices.keys()]) this.remove(id);
    await this.unsubscribe?.();
  }

  /** Subscribes to changes of this node's devices (the events it records). */
  onChange(listener: (c: PresenceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds or replaces a device of this node. */
  put(device: ClientDevice): void {
    const before = this.own.devices.get(device.id);
    this.own.devices.set(device.id, device);
    // A refresh that changes nothing but last seen stays local: the node's beats already say
    // its devices are alive, so 5,000 devices re-registering every 30 s cost no traffic.
    if (
      before &&
      before.status === device.status &&
      before.registeredAt === device.registeredAt &&
      before.address === device.address
    )
      return;
    void this.send({ t: 'up', node: this.nodeId, v: ++this.version, device });
    const change = !before ? 'online' : before.status !== device.status ? device.status : undefined;
    if (change) for (const l of this.listeners) l({ device, change });
  }

  remove(id: string): void {
    const device = this.own.devices.get(id);
    if (!device) return;
    this.own.devices.delete(id);
    void this.send({ t: 'down', node: this.nodeId, v: ++this.version, id });
    for (const l of this.listeners) l({ device, change: 'offline' });
  }

  /** Phones are listed as devices of kind sip (their calls are not tracked: available). */
  phoneRegistered(phone: RegisteredPhone): void {
    this.put({
      ...phone,
      kind: 'sip',
      status: 'available',
      node: this.nodeId,
      lastSeen: Date.now(),
    });
  }

  phoneGone(id: string): void {
    this.remove(id);
  }

  local(id: string): ClientDevice | undefined {
    return this.own.devices.get(id);
  }

  devices(accountSid: string, identity: string, limit = MAX_DEVICES): ClientDevice[] {
    return this.all()
      .filter((d) => d.accountSid === accountSid && d.identity === identity)
      .sort((a, b) => b.registeredAt - a.registeredAt)
      .slice(0, limit);
  }

  /** Every live device of every node (dead nodes' dropped first). */
  all(): ClientDevice[] {
    this.expire(Date.now());
    const out: ClientDevice[] = [];
    for (const view of this.nodes.values()) out.push(...view.devices.values());
    return out;
  }

  private expire(now: number): void {
    for (const [node, view] of this.nodes)
      if (node !== this.nodeId && now - view.lastBeat > STALE_MS) this.nodes.delete(node);
  }

  private beat(): void {
    this.own.lastBeat = Date.now();
    void this.send({ t: 'beat', node: this.nodeId, v: this.version });
  }

  private async send(m: Message): Promise<void> {
    try {
      await this.state.publish(CHANNEL, JSON.stringify(m));
    } catch (err) {
      this.onError(err);
    }
  }

  private receive(raw: string): void {
    let m: Message;
    try {
      m = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (m.node === this.nodeId) return;
    if (m.t === 'sync') {
      if (m.node === '*' || m.node === this.nodeId)
        void this.send({
          t: 'snapshot',
          node: this.nodeId,
          v: this.version,
          devices: [...this.own.devices.values()],
        });
      return;
    }
    const now = Date.now();
    let view = this.nodes.get(m.node);
    if (m.t === 'snapshot') {
      this.nodes.set(m.node, {
        devices: new Map(m.devices.map((d) => [d.id, d])),
        v: m.v,
        lastBeat: now,
      });
      return;
    }
    if (!view) {
      // A node we have not heard from in full: ask it for its devices.
      view = { devices: new Map(), v: -1, lastBeat: now };
      this.nodes.set(m.node, view);
    }
    view.lastBeat = now;
    if (m.t === 'beat') {
      if (m.v !== view.v) void this.send({ t: 'sync', node: m.node, from: this.nodeId });
      return;
    }
    if (view.v === -1 || m.v !== view.v + 1)
      void this.send({ t: 'sync', node: m.node, from: this.nodeId });
    view.v = m.v;
    if (m.t === 'up') view.devices.set(m.device.id, m.device);
    else view.devices.delete(m.id);
  }
}
