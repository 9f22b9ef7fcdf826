// Addresses a number resource can own: an E.164 number, a SIP URI (user@host) or a bare SIP
// user part. Each is normalised to one key (`tel:+…`, `sip:user@host`, `user:name`) unique
// platform-wide; an inbound call's To is turned into candidate keys, most specific first.

export type AddressType = 'e164' | 'sip' | 'user';

export interface Address {
  readonly type: AddressType;
  /** As shown in phone_number. */
  readonly display: string;
  readonly key: string;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const SIP = /^sips?:([^@;?>]+)@([^;?>]+)/i;
const USER = /^[A-Za-z0-9][A-Za-z0-9._~!$&'*+=,-]{0,63}$/;

function sipParts(raw: string): { user: string; host: string } | undefined {
  const m = SIP.exec(raw);
  if (!m?.[1] || !m[2]) return undefined;
  let user: string;
  try {
    user = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  // host[:port]; IPv6 references keep their brackets.
  const hostport = m[2].trim().toLowerCase();
  const host = hostport.startsWith('[')
    ? hostport.slice(0, hostport.indexOf(']') + 1)
    : (hostport.split(':')[0] ?? '');
  if (!host || !/^[a-z0-9.[\]:-]+$/.test(host)) return undefined;
  return { user, host };
}

/** Parses the PhoneNumber parameter; undefined when it is none of the three forms. */
export function parseAddress(raw: string): Address | undefined {
  const s = raw.trim();
  if (E164.test(s)) return { type: 'e164', display: s, key: `tel:${s}` };
  if (/^sips?:/i.test(s)) {
    const p = sipParts(s);
    if (!p || !USER.test(p.user)) return undefined;
    const display = `sip:${p.user}@${p.host}`;
    return { type: 'sip', display, key: display };
  }
  if (USER.test(s) && !s.startsWith('+')) return { type: 'user', display: s, key: `user:${s}` };
  return undefined;
}

/** Candidate keys for an inbound call's To (E.164, tel:, sip:/sips: URI, <…>, or a user part). */
export function routeKeys(to: string): string[] {
  let s = to.trim();
  if (s.startsWith('<') && s.includes('>')) s = s.slice(1, s.indexOf('>'));
  if (/^tel:/i.test(s)) s = s.slice(4).split(';')[0] ?? '';
  const p = /^sips?:/i.test(s) ? sipParts(s) : undefined;
  if (p) {
    const keys = [`sip:${p.user}@${p.host}`];
    if (E164.test(p.user)) keys.push(`tel:${p.user}`);
    else if (/^[1-9]\d{1,14}$/.test(p.user)) keys.push(`tel:+${p.user}`);
    keys.push(`user:${p.user}`);
    return keys;
  }
  if (E164.test(s)) return [`tel:${s}`];
  if (USER.test(s)) return [`user:${s}`];
  return [];
}
