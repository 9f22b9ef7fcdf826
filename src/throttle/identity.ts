// Who is asking, and for what: the requester (a verified credential, else the client address)
// and the resource (the route template with the SIDs it names). Both are bounded in length
// and derived only from verified or validated input, so garbage never becomes a key.
import { BlockList, isIP } from 'node:net';

const SID = /^[A-Z]{2}[0-9a-f]{32}$/;
const PARAM = /:([A-Za-z0-9_]+)/;
/** Most X-Forwarded-For hops examined (a huge header costs nothing more). */
const MAX_HOPS = 16;

export function trustList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addr = '', bits] = entry.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`SWITCHBOARD_TRUSTED_PROXIES: "${entry}" is not an address`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

function normalise(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the
 * right-most X-Forwarded-For hop that is not itself a trusted proxy.
 */
export function clientAddress(
  remote: string | undefined,
  forwardedFor: string | string[] | undefined,
  proxies: BlockList,
): string {
  let current = normalise(remote ?? '');
  if (!isIP(current)) return 'unknown';
  if (!forwardedFor || !trusted(proxies, current)) return current;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const hops = header.slice(-MAX_HOPS * 48).split(',');
  for (let i = hops.length - 1; i >= 0 && i >= hops.length - MAX_HOPS; i--) {
    if (!trusted(proxies, current)) break;
    const hop = normalise((hops[i] ?? '').trim());
    if (!isIP(hop)) break;
    current = hop;
  }
  return current;
}

/** Names the resource of a request on one route template, given its method and parameters. */
export type ResourceNamer = (
  method: string,
  params: Readonly<Record<string, string | undefined>>,
) => string;

/**
 * The resource a request addresses: its route template with every parameter that is a SID
 * filled in (`/2010-04-01/Accounts/AC…/Keys/SK….json`); other parameters stay as placeholders,
 * so the number of resources per requester is bounded by routes × SIDs that exist in URLs.
 * The template is split once, here; naming a request's resource is then a few concatenations.
 */
export function resourceNamer(template: string | undefined): ResourceNamer {
  if (!template) return (method) => `${method} (unmatched)`;
  // Literal text and parameter names alternate: [text, name, text, name, text].
  const parts = template.split(PARAM);
  const head = ` ${parts[0] ?? ''}`;
  return (method, params) => {
    let out = method + head;
    for (let i = 1; i < parts.length; i += 2) {
      const name = parts[i] ?? '';
      const value = params[name];
      out += (value !== undefined && SID.test(value) ? value : `:${name}`) + (parts[i + 1] ?? '');
    }
    return out;
  };
}

export function resourceOf(
  method: string,
  template: string | undefined,
  params: Readonly<Record<string, string | undefined>>,
): string {
  return resourceNamer(template)(method, params);
}
