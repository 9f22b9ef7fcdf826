// Tenant isolation on EVERY route, generated from the route table: the test reads /openapi.json
// at run time, so a route added later (by any capability) is covered without touching this file.
// Each operation says who may call it in `x-switchboard-access`:
//   public   — no credentials (carrier callbacks): not attacked here;
//   operator — providers, routing and other platform-wide settings: only the operator's AuthToken
//   and API keys;
//   account  — an account's own resources (and its subaccounts'): nobody else's credentials.
// Two tenants (top-level accounts other than the operator) are made; the victim tenant owns one
// real resource of every kind the fixtures below know how to create. For every route:
//   - another tenant, its API key and the victim's own subaccount get 404 on the victim's
//     resources (the victim's AccountSid in the path, or the victim's resource SIDs under their
//     own AccountSid, or on a v1 path without an AccountSid);
//   - a list under the attacker's own account never shows one of the victim's SIDs;
//   - a tenant, a subaccount and their API keys get 403 on operator routes; the operator's own
//     API keys pass, as its AuthToken does.
// A path parameter whose collection has no fixture gets a well-formed SID that names nothing,
// so a new route is still attacked; fixtures only make the attack sharper.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sdkClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

type Access = 'public' | 'operator' | 'account';
interface Operation {
  method: string;
  path: string;
  access: Access;
  /** Required form parameters of a POST, with their OpenAPI schemas. */
  required: [string, Record<string, unknown>][];
}
interface Credential {
  name: string;
  accountSid: string;
  authToken: string;
}

let t: TestPlatform;
let operations: Operation[];
let operator: Credential;
let victim: Credential;
let attacker: Credential;
let attackerKey: Credential;
let victimSub: Credential;
let operatorKey: Credential;
/** The victim's resources, by the collection segment that precedes their SID in a path. */
const owned = new Map<string, string>();

const fake = (prefix: string) => prefix + randomBytes(16).toString('hex');

beforeAll(async () => {
  t = await startTestPlatform();
  operator = { name: 'operator', accountSid: t.accountSid, authToken: t.authToken };
  const tenant = async (name: string): Promise<Credential> => {
    const row = await t.platform.accounts.createAccount(null, name);
    return { name, accountSid: row.sid, authToken: row.auth_token };
  };
  victim = await tenant('victim tenant');
  attacker = await tenant('attacker tenant');
  const asVictim = sdkClient(t.url, victim.accountSid, victim.authToken);
  const asAttacker = sdkClient(t.url, attacker.accountSid, attacker.authToken);
  const sub = await asVictim.api.v2010.accounts.create({ friendlyName: 'victim sub' });
  victimSub = { name: "victim's subaccount", accountSid: sub.sid, authToken: sub.authToken };
  const key = await asAttacker.newKeys.create({ friendlyName: 'attacker key' });
  attackerKey = { name: "attacker's API key", accountSid: key.sid, authToken: key.secret };
  const opKey = await t.client.newKeys.create({ friendlyName: 'operator key' });
  operatorKey = { name: "operator's API key", accountSid: opKey.sid, authToken: opKey.secret };

  // One real resource of each kind the victim can make without a telephone network.
  const vKey = await asVictim.newKeys.create({ friendlyName: 'victim key' });
  owned.set('Keys', vKey.sid);
  const app = await asVictim.applications.create({ friendlyName: 'victim app' });
  owned.set('Applications', app.sid);
  const queue = await asVictim.queues.create({ friendlyName: 'victim queue' });
  owned.set('Queues', queue.sid);
  const number = await asVictim.incomingPhoneNumbers.create({ phoneNumber: '+15005550006' });
  owned.set('IncomingPhoneNumbers', number.sid);
  const list = await asVictim.sip.credentialLists.create({ friendlyName: 'victim list' });
  owned.set('CredentialLists', list.sid);
  const cred = await asVictim.sip
    .credentialLists(list.sid)
    .credentials.create({ username: 'victim', password: 'Victim-Secret-123' });
  owned.set('Credentials', cred.sid);
  const domain = await asVictim.sip.domains.create({
    domainName: `victim-${randomBytes(3).toString('hex')}.sip.example.com`,
  });
  owned.set('Domains', domain.sid);
  const mapped = asVictim.sip.domains(domain.sid);
  await mapped.auth.registrations.credentialListMappings.create({ credentialListSid: list.sid });
  await mapped.auth.calls.credentialListMappings.create({ credentialListSid: list.sid });
  owned.set('CredentialListMappings', list.sid);
  const service = await asVictim.messaging.v1.services.create({ friendlyName: 'victim service' });
  owned.set('Services', service.sid);

  const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  operations = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const access = op['x-switchboard-access'] as Access | undefined;
      if (!access) throw new Error(`${method} ${path} does not say who may call it`);
      const body = op.requestBody as
        | { content: Record<string, { schema: { properties: object; required: string[] } }> }
        | undefined;
      const form = body?.content['application/x-www-form-urlencoded']?.schema;
      const required = (form?.required ?? []).map(
        (name) =>
          [name, (form!.properties as Record<string, Record<string, unknown>>)[name] ?? {}] as [
            string,
            Record<string, unknown>,
          ],
      );
      operations.push({ method: method.toUpperCase(), path, access, required });
    }
  }
}, 60_000);

afterAll(async () => {
  await t?.cleanup();
});

/** The path with its parameters filled: the AccountSid given, others the victim's (or fakes). */
function fill(path: string, accountSid: string): { url: string; allReal: boolean } {
  let allReal = true;
  const url = path.replace(/\{([A-Za-z]+)\}/g, (_m, name: string, offset: number) => {
    if (name === 'AccountSid') return accountSid;
    const collection = /([A-Za-z]+)\/$/.exec(path.slice(0, offset))?.[1] ?? '';
    const sid = owned.get(collection);
    if (sid) return sid;
    allReal = false;
    return fake('XX');
  });
  return { url, allReal };
}

/** Plausible values for the required parameters, so that validation is not what answers. */
function bodyOf(op: Operation): string | undefined {
  if (op.method !== 'POST') return undefined;
  const form = new URLSearchParams();
  for (const [name, schema] of op.required) {
    const values = schema.enum as string[] | undefined;
    if (values?.length) form.set(name, values[0]!);
    else if (schema.format === 'uri') form.set(name, 'http://127.0.0.1:9/hook');
    else if (schema.type === 'integer' || schema.type === 'number') form.set(name, '1');
    else if (schema.type === 'boolean') form.set(name, 'true');
    else if (name.endsWith('Sid')) form.set(name, fake(name === 'CredentialListSid' ? 'CL' : 'XX'));
    else if (name === 'PhoneNumber') form.set(name, '+15005550199');
    // Messages/{Sid} takes Body only to redact it ("").
    else if (name === 'Body') form.set(name, '');
    else form.set(name, 'x');
  }
  return form.toString();
}

/** The URL with each of the victim's resource SIDs replaced by one that names nothing. */
function withoutVictimResources(url: string): string {
  let out = url;
  for (const sid of owned.values()) out = out.split(sid).join(fake(sid.slice(0, 2)));
  return out;
}

async function call(who: Credential, op: Operation, url: string) {
  const res = await request({ ...who, url: t.url }, op.method, url, bodyOf(op));
  return { status: res.status, code: res.json.code, text: JSON.stringify(res.json) };
}

describe('every route in /openapi.json keeps tenants apart', () => {
  it('classifies every route, and the fixtures are real', async () => {
    expect(operations.length).toBeGreaterThan(100);
    const counts = { public: 0, operator: 0, account: 0 };
    for (const op of operations) counts[op.access]++;
    expect(counts.operator).toBeGreaterThan(0);
    expect(counts.account).toBeGreaterThan(counts.operator);
    // The victim reaches its own resources: the 404s below are refusals, not absences.
    for (const op of operations) {
      if (op.access !== 'account' || op.method !== 'GET' || !op.path.includes('{')) continue;
      const { url, allReal } = fill(op.path, victim.accountSid);
      if (!allReal || !/\{[A-Za-z]+\}[^{]*\{/.test(op.path)) continue;
      const res = await call(victim, op, url);
      expect(res.status, `victim GET ${url}: ${res.text}`).toBe(200);
    }
  }, 120_000);

  it('operator-only routes refuse every other credential, and admit the operator', async () => {
    const refused: string[] = [];
    for (const op of operations.filter((o) => o.access === 'operator')) {
      const { url } = fill(op.path, victim.accountSid);
      for (const who of [victim, attacker, victimSub, attackerKey]) {
        const res = await call(who, op, url);
        if (res.status !== 403) refused.push(`${who.name} ${op.method} ${url} → ${res.status}`);
      }
      // The operator's AuthToken and the operator's API keys carry the operator role.
      for (const who of [operator, operatorKey]) {
        const res = await call(who, op, url);
        expect([401, 403], `${who.name} ${op.method} ${url}: ${res.text}`).not.toContain(
          res.status,
        );
      }
    }
    expect(refused).toEqual([]);
  }, 120_000);

  it("no tenant, subaccount or API key reaches another tenant's resources", async () => {
    const leaks: string[] = [];
    const victimSids = [victim.accountSid, ...owned.values()];
    const account = operations.filter((o) => o.access === 'account');
    const shown = (who: Credential, text: string) =>
      // A subaccount names its parent (owner_account_sid): that is no leak.
      victimSids.filter(
        (sid) => text.includes(sid) && !(who === victimSub && sid === victim.accountSid),
      );
    const ownOf = (who: Credential) => (who === attackerKey ? attacker.accountSid : who.accountSid);
    const attackers = [attacker, attackerKey, victimSub];
    // Lists (and singletons) of the attacker's own first, before the attacks below put the
    // victim's SIDs into the attacker's own request log (Events).
    for (const op of account) {
      if (op.method !== 'GET' || /\{(?!AccountSid\})[A-Za-z]+\}/.test(op.path)) continue;
      for (const who of attackers) {
        const url = fill(op.path, ownOf(who)).url;
        const res = await call(who, op, url);
        const seen = shown(who, res.text);
        if (seen.length) leaks.push(`${who.name} GET ${url} shows ${seen.join(', ')}`);
      }
    }
    for (const op of account) {
      const hasAccount = op.path.includes('{AccountSid}');
      const hasOther = /\{(?!AccountSid\})[A-Za-z]+\}/.test(op.path);
      for (const who of attackers) {
        const urls: string[] = [];
        // The victim's account in the path: the account itself is out of reach.
        if (hasAccount) urls.push(fill(op.path, victim.accountSid).url);
        // The victim's resource SIDs under the attacker's own account (or a v1 path).
        if (hasOther) urls.push(fill(op.path, ownOf(who)).url);
        for (const url of urls) {
          const res = await call(who, op, url);
          // Refused: 404; 403 to an API key (keys and accounts refuse them outright, as Twilio
          // does); or whatever a resource that does not exist gets (a list under an unknown
          // parent may be empty; a body refused before any lookup) — the victim's resources
          // must be indistinguishable from none.
          let refused = res.status === 404 || (who === attackerKey && res.status === 403);
          if (!refused && shown(who, res.text).length === 0) {
            const none = await call(who, op, withoutVictimResources(url));
            refused =
              res.status === none.status &&
              res.code === none.code &&
              (res.status >= 400 || op.method === 'GET');
          }
          if (!refused) leaks.push(`${who.name} ${op.method} ${url} → ${res.status} ${res.text}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  }, 180_000);

  it("the victim's resources are untouched by all of the above", async () => {
    const asVictim = sdkClient(t.url, victim.accountSid, victim.authToken);
    expect((await asVictim.queues(owned.get('Queues')!).fetch()).friendlyName).toBe('victim queue');
    expect((await asVictim.applications(owned.get('Applications')!).fetch()).friendlyName).toBe(
      'victim app',
    );
    expect((await asVictim.messaging.v1.services(owned.get('Services')!).fetch()).sid).toBe(
      owned.get('Services'),
    );
  });
});
