// The keys that seal secrets at rest. AuthTokens sign webhooks and API key secrets verify the
// HMAC of AccessTokens, so both must be recoverable; they are kept encrypted (AES-256-GCM)
// under a key that is not in the database: SWITCHBOARD_SEALING_KEY, or a key file made in the
// data directory on first start (mode 0600). A dump of the database alone opens nothing.
//
// Every sealed row names the key it was sealed under (`seal_key_id`), so the ring may hold
// several keys during a rotation: the current one seals, all of them open.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_FILE = 'sealing-keys.json';
const MIN_MATERIAL = 32;

export interface SealingKey {
  /** 12 hex digits derived from the key (not the key): what a row records. */
  readonly id: string;
  readonly key: Buffer;
}

/** Derives a sealing key from configured or generated material (any string of 32+ chars). */
export function sealingKey(material: string): SealingKey {
  if (material.length < MIN_MATERIAL) {
    throw new Error(`a sealing key must be at least ${MIN_MATERIAL} characters`);
  }
  const key = Buffer.from(hkdfSync('sha256', material, 'switchboard', 'sealing key', 32));
  const id = Buffer.from(hkdfSync('sha256', material, 'switchboard', 'sealing key id', 6));
  return { id: id.toString('hex'), key };
}

/** Where the keys come from: the configuration, or the key file in the data directory. */
export type KeySource = { kind: 'config' } | { kind: 'file'; path: string };

export class SealingError extends Error {}

export class Keyring {
  private keys: Map<string, SealingKey>;
  private currentKey: SealingKey;

  constructor(
    current: SealingKey,
    others: readonly SealingKey[],
    readonly source: KeySource,
  ) {
    this.currentKey = current;
    this.keys = new Map([...others, current].map((k) => [k.id, k]));
  }

  get currentId(): string {
    return this.currentKey.id;
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }

  has(id: string): boolean {
    return this.keys.has(id) || this.reloaded(id);
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url); `aad` binds the value to its row and column. */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.currentKey.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The plain value; throws a SealingError when the key is unknown or the value altered. */
  open(sealed: string, keyId: string, aad: string): string {
    const key = this.keys.get(keyId) ?? (this.reloaded(keyId) ? this.keys.get(keyId) : undefined);
    if (!key) {
      throw new SealingError(
        `a secret is sealed under key ${keyId}, which this node does not hold (${this.describe()})`,
      );
    }
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
      throw new SealingError(`a secret sealed under key ${keyId} is not a sealed value (${aad})`);
    }
    try {
      const d = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    } catch {
      throw new SealingError(`a secret sealed under key ${keyId} does not open (${aad}): altered`);
    }
  }

  describe(): string {
    return this.source.kind === 'file'
      ? `key file ${this.source.path}`
      : 'SWITCHBOARD_SEALING_KEY and SWITCHBOARD_SEALING_PREVIOUS_KEYS';
  }

  /**
   * A key file may have been rotated by `switchboard secrets rotate` while this node runs: a key
   * id it does not know sends it to read the file again (rare: once per new key).
   */
  private reloaded(id: string): boolean {
    if (this.source.kind !== 'file' || !existsSync(this.source.path)) return false;
    const file = readKeyFile(this.source.path);
    if (!file.keys.some((k) => k.id === id)) return false;
    this.keys = new Map(file.keys.map((k) => [k.id, k]));
    this.currentKey = this.keys.get(file.current) ?? this.currentKey;
    return true;
  }
}

interface KeyFile {
  readonly current: string;
  readonly keys: SealingKey[];
}

interface KeyFileJson {
  current: string;
  keys: { id: string; material: string; created: string }[];
}

function readKeyFile(path: string): KeyFile {
  const json = JSON.parse(readFileSync(path, 'utf8')) as KeyFileJson;
  const keys = json.keys.map((k) => {
    const key = sealingKey(k.material);
    if (key.id !== k.id) throw new Error(`${path}: key ${k.id} does not match its material`);
    return key;
  });
  if (!keys.some((k) => k.id === json.current)) {
    throw new Error(`${path}: the current key ${json.current} is not in the file`);
  }
  return { current: json.current, keys };
}

/** Writes the key file whole (a temporary file renamed over it), readable by the owner only. */
function writeKeyFile(path: string, json: KeyFileJson): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function newMaterial(): string {
  return randomBytes(32).toString('base64url');
}

export interface KeyringOptions {
  readonly dataDir: string;
  readonly sealingKey?: string | undefined;
  readonly sealingPreviousKeys?: readonly string[] | undefined;
  /**
   * Whether a key file may be made when there is none: not when the database already holds
   * rows sealed by another node (its key would open none of them).
   */
  readonly mayCreate: boolean;
}

/** The ring this node seals and opens with. */
export function loadKeyring(options: KeyringOptions): Keyring {
  if (options.sealingKey !== undefined) {
    const previous = (options.sealingPreviousKeys ?? []).map((m) => sealingKey(m));
    return new Keyring(sealingKey(options.sealingKey), previous, { kind: 'config' });
  }
  const path = join(options.dataDir, KEY_FILE);
  if (!existsSync(path)) {
    if (!options.mayCreate) {
      throw new Error(
        `the database holds secrets sealed by another node, and ${path} does not exist: set SWITCHBOARD_SEALING_KEY (the same on every node) or copy that node's ${KEY_FILE}`,
      );
    }
    const material = newMaterial();
    const key = sealingKey(material);
    writeKeyFile(path, {
      current: key.id,
      keys: [{ id: key.id, material, created: new Date().toISOString() }],
    });
  }
  const file = readKeyFile(path);
  const current = file.keys.find((k) => k.id === file.current);
  if (!current) throw new Error(`${path}: no current key`);
  return new Keyring(current, file.keys, { kind: 'file', path });
}

/** Adds a new key to the key file and makes it current; the old ones keep opening rows. */
export function addKeyToFile(path: string): string {
  const json = JSON.parse(readFileSync(path, 'utf8')) as KeyFileJson;
  const material = newMaterial();
  const key = sealingKey(material);
  json.keys.push({ id: key.id, material, created: new Date().toISOString() });
  json.current = key.id;
  writeKeyFile(path, json);
  return key.id;
}

/** Drops from the key file every key but the current one and those `keep` names. */
export function retireKeysInFile(path: string, keep: ReadonlySet<string>): string[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as KeyFileJson;
  const dropped = json.keys
    .filter((k) => k.id !== json.current && !keep.has(k.id))
    .map((k) => k.id);
  json.keys = json.keys.filter((k) => !dropped.includes(k.id));
  writeKeyFile(path, json);
  return dropped;
}
