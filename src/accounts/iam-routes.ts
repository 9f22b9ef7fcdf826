// iam.twilio.com v1 Keys: standard and restricted API keys. A restricted key carries a policy
// (`{"allow": [permission, …]}`, at most 100 permissions) and reaches only the routes whose
// permission it names; the HTTP edge enforces it on every route (src/core/permissions.ts).
import { fail, isSid, rfc2822 } from '../core/index.js';
import { isKnownPermission } from '../core/permissions.js';
import { PAGE_PARAMS, listPageV1, type RestRequest, type RestRoute } from '../core/rest.js';
import { policyOf, type Accounts } from './accounts.js';
import type { KeyRow } from './tables.js';

const MAX_PERMISSIONS = 100;

function keyJson(row: KeyRow): Record<string, unknown> {
  const allow = policyOf(row);
  return {
    sid: row.sid,
    friendly_name: row.friendly_name,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    policy: allow ? { allow: [...allow] } : null,
    // Restricted keys call the REST API only; standard keys also sign AccessTokens.
    flags: allow ? ['rest_api', 'restricted'] : ['rest_api', 'signing'],
  };
}

/** Only an AuthToken manages keys (Twilio: the AuthToken or a Main key, which we do not have). */
function requireAuthToken(req: RestRequest): void {
  if (req.principal.credentialSid !== req.principal.accountSid) {
    fail('forbidden', 'API keys cannot manage keys; use the AuthToken');
  }
}

/** The `allow` list of a Policy parameter, every entry a permission the route table has. */
export function parsePolicy(text: string, known: ReadonlySet<string>): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('policyConstraint', 'Policy is not JSON');
  }
  const allow = (parsed as { allow?: unknown } | null)?.allow;
  if (!Array.isArray(allow) || allow.length === 0) {
    return fail('policyConstraint', 'Policy must be {"allow": [permission, …]}');
  }
  if (allow.length > MAX_PERMISSIONS) {
    fail('policyConstraint', `a key has at most ${MAX_PERMISSIONS} permissions`);
  }
  for (const entry of allow) {
    if (typeof entry !== 'string' || entry.length > 200 || !isKnownPermission(entry, known)) {
      fail('invalidPolicy', `assertion '${String(entry).slice(0, 200)}' is invalid`);
    }
  }
  return [...new Set(allow as string[])];
}

export function iamRoutes(accounts: Accounts, known: () => ReadonlySet<string>): RestRoute[] {
  /** The key named in the path, when it belongs to the caller's account or a subaccount. */
  const keyOf = async (req: RestRequest): Promise<KeyRow> => {
    const sid = req.params.Sid ?? '';
    if (!isSid(sid, 'SK')) fail('notFound', `Key ${sid.slice(0, 40)}`);
    const owner = await accounts.keyAccount(sid);
    if (owner === undefined) fail('notFound', `Key ${sid}`);
    await accounts.resolve(req.principal, owner);
    return accounts.getKey(owner, sid);
  };
  return [
    {
      method: 'POST',
      domain: 'iam',
      path: '/v1/Keys',
      summary: 'Create a standard or restricted API key (the secret is shown once)',
      params: [
        { name: 'AccountSid', type: 'sid', prefix: 'AC', required: true },
        { name: 'FriendlyName', type: 'string', max: 64 },
        { name: 'KeyType', type: 'enum', values: ['restricted'] },
        { name: 'Policy', type: 'string', max: 65_536 },
      ],
      async handler(req) {
        requireAuthToken(req);
        const account = await accounts.resolve(req.principal, req.input.string('AccountSid') ?? '');
        const restricted = req.input.string('KeyType') === 'restricted';
        const policy = req.input.string('Policy');
        if (restricted && policy === undefined) {
          fail('policyConstraint', 'a restricted key needs a Policy');
        }
        if (!restricted && policy !== undefined) {
          fail('policyConstraint', 'Policy is for KeyType=restricted');
        }
        const allow = policy === undefined ? undefined : parsePolicy(policy, known());
        const { row, secret } = await accounts.createKey(
          account.sid,
          req.input.string('FriendlyName'),
          allow,
        );
        const { flags: _flags, ...body } = keyJson(row);
        return { status: 201, body: { ...body, secret } };
      },
    },
    {
      method: 'GET',
      domain: 'iam',
      path: '/v1/Keys',
      summary: "List an account's API keys",
      paged: true,
      params: [{ name: 'AccountSid', type: 'sid', prefix: 'AC', required: true }, ...PAGE_PARAMS],
      async handler(req) {
        requireAuthToken(req);
        const account = await accounts.resolve(req.principal, req.input.string('AccountSid') ?? '');
        const { items, next } = await accounts.listKeys(account.sid, req.page);
        return listPageV1(
          req,
          'keys',
          items.map((row) => {
            const { policy: _policy, ...listed } = keyJson(row);
            return listed;
          }),
          next,
        );
      },
    },
    {
      method: 'GET',
      domain: 'iam',
      path: '/v1/Keys/:Sid',
      summary: 'Fetch an API key and its policy',
      async handler(req) {
        requireAuthToken(req);
        const { flags: _flags, ...body } = keyJson(await keyOf(req));
        return { status: 200, body };
      },
    },
    {
      method: 'POST',
      domain: 'iam',
      path: '/v1/Keys/:Sid',
      summary: "Rename an API key, or replace a restricted key's policy",
      params: [
        { name: 'FriendlyName', type: 'string', max: 64 },
        { name: 'Policy', type: 'string', max: 65_536 },
      ],
      async handler(req) {
        requireAuthToken(req);
        const row = await keyOf(req);
        const policy = req.input.string('Policy');
        const allow = policy === undefined ? undefined : parsePolicy(policy, known());
        const next = await accounts.updateKey(
          row.account_sid,
          row.sid,
          req.input.string('FriendlyName'),
          allow,
        );
        const { flags: _flags, ...body } = keyJson(next);
        return { status: 200, body };
      },
    },
    {
      method: 'DELETE',
      domain: 'iam',
      path: '/v1/Keys/:Sid',
      summary: 'Delete (revoke) an API key',
      async handler(req) {
        requireAuthToken(req);
        const row = await keyOf(req);
        await accounts.deleteKey(row.account_sid, row.sid);
        return { status: 204, body: undefined };
      },
    },
  ];
}
