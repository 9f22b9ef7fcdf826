// Where the platform's outgoing HTTP may go (webhooks, status callbacks, TwiML and <Play>
// fetches): the URLs come from tenants, so without a policy a tenant could make the platform
// fetch its cloud's metadata service (169.254.169.254, fd00:ec2::254) or speak HTTP to the
// platform's own ports (its API, Redis, PostgreSQL). Every address a connection is about to use
// is checked here: IP literals before the request, names as they resolve (in the socket's
// lookup, so a name that resolves differently on a second look cannot slip past), and again at
// each redirect. docs/security.md describes the policy.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Config } from '../core/index.js';

export interface AddressPolicyOptions {
  /** Loopback and private ranges (RFC 1918, ULA, CGNAT) allowed: a self-hosted default. */
  readonly allowPrivate: boolean;
  /** Addresses or CIDR ranges allowed even though refused by default (e.g. 169.254.0.0/16). */
  readonly allow: readonly string[];
  /** More addresses or CIDR ranges refused. */
  readonly deny: readonly string[];
  /** The platform's own ports (API, TLS, SIP, Redis, PostgreSQL), refused on local addresses. */
  readonly platformPorts: readonly number[];
  /** Allow the platform's own ports after all (a deployment whose webhooks are served by it). */
  readonly allowPlatformPorts: boolean;
}

export const DEFAULT_ADDRESS_POLICY: AddressPolicyOptions = {
  allowPrivate: true,
  allow: [],
  deny: [],
  platformPorts: [],
  allowPlatformPorts: false,
};

/** Refused always, unless allowed: link-local (metadata services live there) and unroutable. */
const LINK_LOCAL = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128'];
const UNROUTABLE = ['224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32', 'ff00::/8'];
/** Allowed by default on a self-hosted platform; refused when allowPrivate is false. */
const LOOPBACK = ['127.0.0.0/8', '::1/128', '0.0.0.0/8', '::/128'];
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'];

function add(list: BlockList, cidr: string): void {
  const [address, bits] = cidr.split('/');
  const family = isIP(address ?? '');
  if (!family) throw new Error(`not an IP address or CIDR range: "${cidr}"`);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) list.addAddress(address!, type);
  else {
    const prefix = Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`bad prefix length in "${cidr}"`);
    }
    list.addSubnet(address!, prefix, type);
  }
}

function listOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) add(list, c);
  return list;
}

/** ::ffff:a.b.c.d is a.b.c.d: the same host whatever the spelling. */
function canonical(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const bare = address.startsWith('[') ? address.slice(1, -1) : address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return { address: mapped[1]!, type: 'ipv4' };
  return { address: bare, type: isIP(bare) === 6 ? 'ipv6' : 'ipv4' };
}

export class AddressPolicy {
  private readonly allow: BlockList;
  private readonly deny: BlockList;
  private readonly local: BlockList;
  private readonly ports: ReadonlySet<number>;

  constructor(readonly options: AddressPolicyOptions = DEFAULT_ADDRESS_POLICY) {
    this.allow = listOf(options.allow);
    this.deny = listOf([
      ...LINK_LOCAL,
      ...UNROUTABLE,
      ...(options.allowPrivate ? [] : [...LOOPBACK, ...PRIVATE]),
      ...options.deny,
    ]);
    // The machine's own addresses: a request to one of them on a platform port is to itself.
    const own = [...LOOPBACK];
    for (const infos of Object.values(networkInterfaces())) {
      for (const info of infos ?? []) own.push(info.address.split('%')[0]!);
    }
    this.local = listOf(own);
    this.ports = new Set(options.allowPlatformPorts ? [] : options.platformPorts);
  }

  /** Why a connection to this address (and port, when known) is refused, or undefined. */
  refusal(address: string, port?: number): string | undefined {
    const { address: a, type } = canonical(address);
    if (!isIP(a)) return `${address} is not an IP address`;
    if (port !== undefined && this.ports.has(port) && this.local.check(a, type)) {
      return `${a}:${port} is one of the platform's own ports`;
    }
    if (this.allow.check(a, type)) return undefined;
    if (this.deny.check(a, type)) return `${a} is in a range the webhook address policy refuses`;
    return undefined;
  }

  /**
   * Why this URL may not be fetched, when that can be told without resolving its host (an IP
   * literal, or a platform port on a name that resolves to this machine).
   */
  async refusalOfUrl(url: URL): Promise<string | undefined> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return `${url.protocol} URLs are not fetched`;
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host)) return this.refusal(host, port);
    // The socket's lookup sees no port: a name is checked against the platform's ports here.
    if (!this.ports.has(port)) return undefined;
    const addresses = await new Promise<LookupAddress[]>((resolve) =>
      dnsLookup(host, { all: true }, (err, found) => resolve(err ? [] : found)),
    );
    for (const { address } of addresses) {
      const why = this.refusal(address, port);
      if (why) return why;
    }
    return undefined;
  }

  /**
   * A `lookup` for net.connect/tls.connect: resolves as usual, and fails the connection when
   * any address the name resolves to is refused (a name must not reach refused addresses by
   * luck of which one is tried first).
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      for (const { address } of addresses) {
        const why = this.refusal(address);
        if (why) {
          const refused = new Error(`${hostname}: ${why}`) as NodeJS.ErrnoException;
          refused.code = ADDRESS_REFUSED;
          return callback(refused, '');
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}

/** The error code of a connection the policy refused. */
export const ADDRESS_REFUSED = 'SB_ADDRESS_REFUSED';

let current = new AddressPolicy();

/**
 * The policy in force for this process's outgoing HTTP (set by the platform at start, from
 * configuration; the webhook sender's thread gets the same options).
 */
export function addressPolicy(): AddressPolicy {
  return current;
}

const listeners = new Set<(options: AddressPolicyOptions) => void>();

export function setAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  current = new AddressPolicy(options);
  for (const listener of listeners) listener(options);
  return current;
}

/** Calls back on every change of policy (the sender thread's copy follows); returns an unsubscribe. */
export function onAddressPolicy(listener: (options: AddressPolicyOptions) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The port of a service URL (redis://, postgres://) when it names one on this machine. */
function localPort(url: string | undefined, fallback: number): number | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : fallback;
  } catch {
    return undefined;
  }
}

/** The policy configuration says, with the ports this platform serves on (once bound). */
export function addressPolicyOf(
  config: Pick<
    Config,
    | 'webhookAllowPrivate'
    | 'webhookAllow'
    | 'webhookDeny'
    | 'webhookAllowPlatformPorts'
    | 'port'
    | 'sipEnabled'
    | 'sipPort'
    | 'tlsEnabled'
    | 'tlsPort'
    | 'redisUrl'
    | 'databaseUrl'
  >,
  boundPorts: readonly number[] = [],
): AddressPolicyOptions {
  const ports = [
    config.port,
    config.sipEnabled ? config.sipPort : undefined,
    config.tlsEnabled ? config.tlsPort : undefined,
    localPort(config.redisUrl, 6379),
    localPort(config.databaseUrl, 5432),
    ...boundPorts,
  ].filter((p): p is number => typeof p === 'number' && p > 0);
  return {
    allowPrivate: config.webhookAllowPrivate,
    allow: config.webhookAllow ?? [],
    deny: config.webhookDeny ?? [],
    platformPorts: [...new Set(ports)],
    allowPlatformPorts: config.webhookAllowPlatformPorts,
  };
}
