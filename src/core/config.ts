import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// Every configuration key lives in this one table: the loader reads it, `switchboard --help`
// and README.md print it, and a test checks the README lists every key. Environment
// variables win over the optional JSON config file (SWITCHBOARD_CONFIG, default
// ./switchboard.json), which uses the same names.

type Kind = 'string' | 'int' | 'bool' | 'list';

interface KeySpec {
  readonly env: string;
  readonly kind: Kind;
  readonly default: string | undefined;
  readonly doc: string;
}

export const CONFIG_KEYS = {
  port: { env: 'PORT', kind: 'int', default: '3000', doc: 'HTTP API port (0 = any free port).' },
  host: { env: 'HOST', kind: 'string', default: '0.0.0.0', doc: 'HTTP bind address.' },
  publicUrl: {
    env: 'SWITCHBOARD_PUBLIC_URL',
    kind: 'string',
    default: undefined,
    doc: 'Base URL clients use to reach the API (defaults to http://127.0.0.1:PORT).',
  },
  dataDir: {
    env: 'SWITCHBOARD_DATA_DIR',
    kind: 'string',
    default: './data',
    doc: 'Directory for the SQLite database, recordings and the owner credentials file.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    kind: 'string',
    default: undefined,
    doc: 'postgres://… to store records in PostgreSQL instead of SQLite.',
  },
  databaseSchema: {
    env: 'SWITCHBOARD_DATABASE_SCHEMA',
    kind: 'string',
    default: undefined,
    doc: 'PostgreSQL schema to use (created if missing); default is the search_path.',
  },
  redisUrl: {
    env: 'REDIS_URL',
    kind: 'string',
    default: undefined,
    doc: 'redis://… to share state (presence, throttling) and queues between nodes.',
  },
  redisPrefix: {
    env: 'SWITCHBOARD_REDIS_PREFIX',
    kind: 'string',
    default: 'sb:',
    doc: 'Prefix of every Redis key this deployment uses.',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    kind: 'string',
    default: 'info',
    doc: 'pino log level: trace, debug, info, warn, error, fatal, silent.',
  },
  accountSid: {
    env: 'SWITCHBOARD_ACCOUNT_SID',
    kind: 'string',
    default: undefined,
    doc: 'AccountSid of the operator account (made on first start with it, or an existing main account that takes the role over); other main accounts are tenants.',
  },
  authToken: {
    env: 'SWITCHBOARD_AUTH_TOKEN',
    kind: 'string',
    default: undefined,
    doc: 'Preset AuthToken of the operator account created on first start.',
  },
  // Secrets at rest (docs/security.md, "Secrets"): AuthTokens and API key signing secrets.
  sealingKey: {
    env: 'SWITCHBOARD_SEALING_KEY',
    kind: 'string',
    default: undefined,
    doc: 'Key that seals AuthTokens and API key signing secrets in the database (32+ characters, e.g. `openssl rand -base64 32`); unset: a key is made on first start in <data dir>/sealing-keys.json (mode 0600). Set the same value on every node.',
  },
  sealingPreviousKeys: {
    env: 'SWITCHBOARD_SEALING_PREVIOUS_KEYS',
    kind: 'list',
    default: undefined,
    doc: 'Further sealing keys that still open rows (during a rotation), comma-separated; rows under them are sealed again under SWITCHBOARD_SEALING_KEY at start.',
  },
  bodyLimit: {
    env: 'SWITCHBOARD_BODY_LIMIT',
    kind: 'int',
    default: '1048576',
    doc: 'Largest accepted request body in bytes (larger: 413, error 20001).',
  },
  asrEngine: {
    env: 'SWITCHBOARD_ASR_ENGINE',
    kind: 'string',
    default: 'pocketsphinx',
    doc: 'Speech recognition for Intelligence transcripts of recordings and media: pocketsphinx (Debian packages pocketsphinx + pocketsphinx-en-us), whisper-cpp, or none.',
  },
  asrWhisperBin: {
    env: 'SWITCHBOARD_ASR_WHISPER_BIN',
    kind: 'string',
    default: 'whisper-cli',
    doc: "whisper.cpp's command-line program, when SWITCHBOARD_ASR_ENGINE=whisper-cpp.",
  },
  asrWhisperModel: {
    env: 'SWITCHBOARD_ASR_WHISPER_MODEL',
    kind: 'string',
    default: '',
    doc: 'Path of the whisper.cpp model file (ggml) the operator installed; nothing is downloaded.',
  },
  webhookTimeout: {
    env: 'SWITCHBOARD_WEBHOOK_TIMEOUT',
    kind: 'int',
    default: '15000',
    doc: 'Milliseconds to wait for a TwiML webhook before its fallback URL is used (Twilio: 15 s).',
  },
  webhookAllowPrivate: {
    env: 'SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE',
    kind: 'bool',
    default: 'true',
    doc: 'Outgoing webhooks, callbacks and TwiML/<Play> fetches may reach loopback and private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); false on a platform serving tenants it does not trust with its network (docs/security.md).',
  },
  webhookAllow: {
    env: 'SWITCHBOARD_WEBHOOK_ALLOW',
    kind: 'list',
    default: undefined,
    doc: 'Addresses or CIDR ranges outgoing HTTP may reach although the address policy refuses them (link-local 169.254.0.0/16 and fe80::/10, metadata fd00:ec2::254, or private ones), comma-separated.',
  },
  webhookDeny: {
    env: 'SWITCHBOARD_WEBHOOK_DENY',
    kind: 'list',
    default: undefined,
    doc: 'More addresses or CIDR ranges outgoing HTTP may not reach, comma-separated.',
  },
  webhookAllowPlatformPorts: {
    env: 'SWITCHBOARD_WEBHOOK_ALLOW_PLATFORM_PORTS',
    kind: 'bool',
    default: 'false',
    doc: "Outgoing HTTP may reach this machine's addresses on the platform's own ports (HTTP API, TLS, SIP, Redis, PostgreSQL); refused by default.",
  },
  nodeStaleMs: {
    env: 'SWITCHBOARD_NODE_STALE_MS',
    kind: 'int',
    default: '60000',
    doc: "With several nodes: milliseconds a live call's metering heartbeat may stay silent before the other nodes take its node for dead, close its segments and end the call.",
  },
  callbackPipelining: {
    env: 'SWITCHBOARD_CALLBACK_PIPELINING',
    kind: 'int',
    // One at a time: many servers and proxies mishandle HTTP/1.1 pipelining, and the
    // receivers are the customers'. Pipelining is the operator's opt-in (bench:messaging
    // prints both figures).
    default: '1',
    doc: 'Status callbacks sent back to back on one keep-alive connection to a receiver before the first is answered (HTTP/1.1 pipelining). Default 1: one at a time; a higher value is an opt-in for receivers known to handle pipelining.',
  },
  scheduleMinLeadSeconds: {
    env: 'SWITCHBOARD_SCHEDULE_MIN_LEAD_S',
    kind: 'int',
    default: '300',
    doc: 'Shortest time ahead, in seconds, a message may be scheduled for (SendAt; Twilio: 300 s; at most 35 days).',
  },
  eventFlushMs: {
    env: 'SWITCHBOARD_EVENT_FLUSH_MS',
    kind: 'int',
    default: '250',
    doc: 'Longest time, in ms, an interaction event waits in memory before its batch is written (a crash loses at most this much of the log).',
  },
  eventRetentionDays: {
    env: 'SWITCHBOARD_EVENT_RETENTION_DAYS',
    kind: 'int',
    default: '30',
    doc: 'Days the interaction event log and its tag index keep an event (0 keeps them forever); tracker measurements are kept.',
  },
  usageTriggerSweepMs: {
    env: 'SWITCHBOARD_USAGE_TRIGGER_SWEEP_MS',
    kind: 'int',
    default: '10000',
    doc: "How often, in ms, every usage trigger and tracker trigger is evaluated, besides when this node closes an account's call segment or commits a tracker's events (catches subaccounts' usage and other nodes' work).",
  },
  sipPort: {
    env: 'SWITCHBOARD_SIP_PORT',
    kind: 'int',
    default: '5060',
    doc: 'SIP port for UDP and TCP (0 = any free port).',
  },
  sipHost: {
    env: 'SWITCHBOARD_SIP_HOST',
    kind: 'string',
    default: '0.0.0.0',
    doc: 'SIP and RTP bind address.',
  },
  sipPublicAddress: {
    env: 'SWITCHBOARD_SIP_PUBLIC_ADDRESS',
    kind: 'string',
    default: undefined,
    doc: 'Address advertised in Via/Contact/SDP when behind NAT (defaults to the bind address, or 127.0.0.1 for 0.0.0.0).',
  },
  rtpPorts: {
    env: 'SWITCHBOARD_RTP_PORTS',
    kind: 'string',
    default: '20000-29999',
    doc: 'RTP port range, inclusive (even ports are used for RTP).',
  },
  rtpTimeout: {
    env: 'SWITCHBOARD_RTP_TIMEOUT',
    kind: 'int',
    default: '60',
    doc: 'Seconds without incoming RTP after which an answered call is hung up (0 = never).',
  },
  sipTrunks: {
    env: 'SWITCHBOARD_SIP_TRUNKS',
    kind: 'list',
    default: undefined,
    doc: 'Outbound SIP trunks that E.164 numbers are dialled through (Calls create, <Dial><Number>), tried in order: sip:[user:password@]host[:port][;transport=tcp], comma-separated.',
  },
  sipEnabled: {
    env: 'SWITCHBOARD_SIP',
    kind: 'bool',
    default: 'true',
    doc: 'Start the SIP/RTP engine with the platform.',
  },
  // SIP Domains and the registrar (docs/sip.md, "Registering phones").
  sipNonceSecret: {
    env: 'SWITCHBOARD_SIP_NONCE_SECRET',
    kind: 'string',
    default: undefined,
    doc: 'HMAC secret for registrar digest nonces; set the same value on every node (random per process when unset).',
  },
  sipDigestAlgorithms: {
    env: 'SWITCHBOARD_SIP_DIGEST_ALGORITHMS',
    kind: 'list',
    default: 'MD5',
    doc: 'Digest challenges the registrar offers, in order (MD5, SHA-256, SHA-512-256); many phones fail on any challenge but MD5.',
  },
  sipCredentialKey: {
    env: 'SWITCHBOARD_SIP_CREDENTIAL_KEY',
    kind: 'string',
    default: undefined,
    doc: 'Key that encrypts SIP credential passwords at rest (any string, 16+ chars; when unset a key is generated and kept in the database).',
  },
  sipCredentialPreviousKeys: {
    env: 'SWITCHBOARD_SIP_CREDENTIAL_PREVIOUS_KEYS',
    kind: 'list',
    default: undefined,
    doc: 'Earlier SIP credential keys that still open passwords (during a rotation), comma-separated; passwords under them, or under the key kept in the database, are sealed again under SWITCHBOARD_SIP_CREDENTIAL_KEY at start.',
  },
  // Presence (issue 13, docs/presence.md): the TLS listener and the Voice SDK's devices.
  tlsEnabled: {
    env: 'SWITCHBOARD_TLS',
    kind: 'bool',
    default: 'true',
    doc: 'Start the TLS listener: the REST API and the Voice SDK signalling WebSocket (wss://…/signal).',
  },
  tlsPort: {
    env: 'SWITCHBOARD_TLS_PORT',
    kind: 'int',
    default: '3443',
    doc: 'TLS port of the REST API and the Voice SDK signalling WebSocket (0 = any free port).',
  },
  tlsCert: {
    env: 'SWITCHBOARD_TLS_CERT',
    kind: 'string',
    default: undefined,
    doc: 'PEM certificate (chain) file for the TLS listener; unset: a self-signed pair is made in the data directory (tls/).',
  },
  tlsKey: {
    env: 'SWITCHBOARD_TLS_KEY',
    kind: 'string',
    default: undefined,
    doc: 'PEM private key file matching SWITCHBOARD_TLS_CERT.',
  },
  deviceSecret: {
    env: 'SWITCHBOARD_DEVICE_SECRET',
    kind: 'string',
    default: undefined,
    doc: 'Secret (16+ characters) with which the nodes sign the INVITEs that ring Voice SDK devices; the same on every node. Unset: one node makes a random one and the others read it from the shared state (Redis), or a random one per process on a single node.',
  },
  deviceSipPort: {
    env: 'SWITCHBOARD_DEVICE_SIP_PORT',
    kind: 'int',
    default: '0',
    doc: "SIP port of this node's device gateway, where any node's calls reach the Voice SDK devices connected here (0 = any free port); it takes only INVITEs signed with SWITCHBOARD_DEVICE_SECRET (403 otherwise).",
  },
  webrtcPorts: {
    env: 'SWITCHBOARD_WEBRTC_PORTS',
    kind: 'string',
    default: '40000-49999',
    doc: 'UDP port range of browser media (ICE, DTLS-SRTP), inclusive.',
  },
  // Error-aware throttling (issue 5, src/throttle, docs/throttling.md).
  throttle: {
    env: 'SWITCHBOARD_THROTTLE',
    kind: 'bool',
    default: 'true',
    doc: 'Throttle the API: delay requesters repeating failing requests, per-account concurrency and per-credential rate limits.',
  },
  throttleWindowMs: {
    env: 'SWITCHBOARD_THROTTLE_WINDOW_MS',
    kind: 'int',
    default: '60000',
    doc: 'Sliding window over which errors per (requester, resource) are counted, in ms.',
  },
  throttleThreshold: {
    env: 'SWITCHBOARD_THROTTLE_THRESHOLD',
    kind: 'int',
    default: '5',
    doc: 'Errors in the window after which further requests to that resource are delayed.',
  },
  throttleDelayMs: {
    env: 'SWITCHBOARD_THROTTLE_DELAY_MS',
    kind: 'int',
    default: '100',
    doc: 'First delay once past the threshold, in ms.',
  },
  throttleMaxDelayMs: {
    env: 'SWITCHBOARD_THROTTLE_MAX_DELAY_MS',
    kind: 'int',
    default: '10000',
    doc: 'Longest delay, in ms.',
  },
  throttleCurve: {
    env: 'SWITCHBOARD_THROTTLE_CURVE',
    kind: 'string',
    default: 'exponential',
    doc: 'How the delay grows with each error past the threshold: constant, linear or exponential (doubling).',
  },
  throttleSuccessKeep: {
    env: 'SWITCHBOARD_THROTTLE_SUCCESS_KEEP',
    kind: 'int',
    default: '0',
    doc: 'Percent of the error count kept after a successful request (0 = a success resets it).',
  },
  throttleErrorStatuses: {
    env: 'SWITCHBOARD_THROTTLE_ERROR_STATUSES',
    kind: 'list',
    default: '400-599',
    doc: 'HTTP statuses counted as errors (comma-separated codes and ranges); 429s the throttle answers itself never count.',
  },
  throttleConcurrency: {
    env: 'SWITCHBOARD_THROTTLE_CONCURRENCY',
    kind: 'int',
    default: '100',
    doc: 'Requests in progress per account; more get 429 (error 20429) with Retry-After (0 = no limit).',
  },
  throttleRate: {
    env: 'SWITCHBOARD_THROTTLE_RATE',
    kind: 'int',
    default: '10000',
    doc: 'Requests per credential per rate window; more get 429 (error 20429) with Retry-After (0 = no limit).',
  },
  throttleRateWindowMs: {
    env: 'SWITCHBOARD_THROTTLE_RATE_WINDOW_MS',
    kind: 'int',
    default: '1000',
    doc: 'Window of the per-credential rate limit, in ms.',
  },
  throttleExemptRoutes: {
    env: 'SWITCHBOARD_THROTTLE_EXEMPT_ROUTES',
    kind: 'list',
    default: '/healthz,/metrics,/openapi.json',
    doc: 'Route templates never throttled (comma-separated; a trailing * matches a prefix).',
  },
  throttleExemptAccounts: {
    env: 'SWITCHBOARD_THROTTLE_EXEMPT_ACCOUNTS',
    kind: 'list',
    default: undefined,
    doc: 'AccountSids or credential SIDs never throttled (comma-separated).',
  },
  throttleMaxKeys: {
    env: 'SWITCHBOARD_THROTTLE_MAX_KEYS',
    kind: 'int',
    default: '100000',
    doc: "Most entries in each of the throttle's in-process caches (verified identities, tracked keys).",
  },
  trustedProxies: {
    env: 'SWITCHBOARD_TRUSTED_PROXIES',
    kind: 'list',
    default: undefined,
    doc: 'Addresses or CIDRs of proxies whose X-Forwarded-For is believed (comma-separated).',
  },
} as const satisfies Record<string, KeySpec>;

type Keys = typeof CONFIG_KEYS;
type ValueOf<K extends Kind> = K extends 'int'
  ? number
  : K extends 'bool'
    ? boolean
    : K extends 'list'
      ? string[]
      : string;

export type Config = {
  readonly [P in keyof Keys]: Keys[P]['default'] extends string
    ? ValueOf<Keys[P]['kind']>
    : ValueOf<Keys[P]['kind']> | undefined;
};

export class ConfigError extends Error {}

function parse(name: string, kind: Kind, raw: string): string | number | boolean | string[] {
  switch (kind) {
    case 'int': {
      if (!/^\d+$/.test(raw.trim()))
        throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${name} must be true or false, got "${raw}"`);
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/** Reads configuration from `env`, then the JSON file, then defaults; `overrides` win over all. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<keyof Keys, string | number | boolean>> = {},
): Config {
  const file = env.SWITCHBOARD_CONFIG ?? './switchboard.json';
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(
        `config file ${resolve(file)} is not valid JSON: ${(e as Error).message}`,
      );
    }
  } else if (env.SWITCHBOARD_CONFIG) {
    throw new ConfigError(`config file ${resolve(file)} does not exist`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as [keyof Keys, KeySpec][]) {
    const override = overrides[key];
    if (override !== undefined) {
      out[key] = typeof override === 'string' ? parse(spec.env, spec.kind, override) : override;
      continue;
    }
    const fileValue = fromFile[spec.env];
    const raw = env[spec.env] ?? (fileValue === undefined ? undefined : String(fileValue));
    const value = raw === undefined || raw === '' ? spec.default : raw;
    out[key] = value === undefined ? undefined : parse(spec.env, spec.kind, value);
  }
  return out as Config;
}
