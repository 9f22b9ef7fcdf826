// Phones registered to SIP Domains are presence too: each binding the registrar adds,
// refreshes or drops is told to presence, which lists it among the identity's devices (kind
// sip) on every node. <Dial><Client> still reaches a phone through the registrar itself.
import { createHash } from 'node:crypto';
import type { ClientPresence } from '../plugin/index.js';
import { parseUri, SipParseError, type Binding, type SipEngine } from '../sip/index.js';

/** A binding's device id: stable across refreshes of the same contact. */
function phoneId(b: Binding): string {
  return 'DV' + createHash('sha256').update(`${b.aor}|${b.contact}`).digest('hex').slice(0, 32);
}

export function announcePhones(sip: SipEngine, presence: ClientPresence): void {
  // A refresh keeps the first registration's time (registeredAt orders ringing).
  const since = new Map<string, number>();
  sip.on('binding-added', (b) => {
    const aor = parseUri(b.aor);
    if (b.owner === undefined || aor instanceof SipParseError || !aor.user) return;
    const id = phoneId(b);
    const registeredAt = since.get(id) ?? Date.now();
    since.set(id, registeredAt);
    presence.phoneRegistered({
      id,
      accountSid: b.owner,
      identity: decodeURIComponent(aor.user),
      address: b.contact,
      registeredAt,
    });
  });
  sip.on('binding-removed', (b) => {
    const id = phoneId(b);
    since.delete(id);
    presence.phoneGone(id);
  });
}
