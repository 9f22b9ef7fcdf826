import { fail, iso8601, rfc2822 } from '../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type RestReply,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import type { Accounts } from './accounts.js';
import type { AccountRow, KeyRow } from './tables.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';
const STATUSES = ['active', 'suspended', 'closed'] as const;

function accountJson(row: AccountRow, subresources: readonly string[]): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${row.sid}`;
  return {
    auth_token: row.auth_token,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    friendly_name: row.friendly_name,
    owner_account_sid: row.parent_sid ?? row.sid,
    sid: row.sid,
    status: row.status,
    subresource_uris: Object.fromEntries(
      subresources.map((name) => [snake(name), `${base}/${name}.json`]),
    ),
    type: 'Full',
    uri: `${base}.json`,
  };
}

function keyJson(row: KeyRow): Record<string, unknown> {
  return {
    sid: row.sid,
    friendly_name: row.friendly_name,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
  };
}

const snakeNames = new Map<string, string>();
function snake(name: string): string {
  let out = snakeNames.get(name);
  if (out === undefined) {
    out = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
    snakeNames.set(name, out);
  }
  return out;
}

/** API keys manage no accounts or keys: only AccountSid:AuthToken may (Twilio's standard keys). */
function requireAuthToken(req: RestRequest): void {
  if (req.principal.credentialSid !== req.principal.accountSid) {
    fail('forbidden', 'API keys cannot manage accounts or keys; use the AuthToken');
  }
}

/**
 * Routes of the accounts capability. `subresources` names the collections mounted under an
 * account (e.g. Keys, Calls), for the account's `subresource_uris`.
 */
export function accountRoutes(
  accounts: Accounts,
  subresources: () => readonly string[],
): RestRoute[] {
  // Rows are immutable and shared by the accounts cache (an update makes a new row), so the
  // representation of a row can be kept with it: an account fetched in a loop is built once,
  // and frozen, so that the edge serialises it once too.
  const shown = new WeakMap<AccountRow, { names: readonly string[]; json: object }>();
  const show = (row: AccountRow): object => {
    const names = subresources();
    const memo = shown.get(row);
    if (memo && memo.names === names) return memo.json;
    const json = accountJson(row, names);
    Object.freeze(json.subresource_uris);
    Object.freeze(json);
    shown.set(row, { names, json });
    return json;
  };
  const shown200 = (row: AccountRow | undefined, req: RestRequest): RestReply => {
    if (!row) return fail('notFound', `Account ${req.account.sid}`);
    return { status: 200, body: show(row) };
  };

  return [
    {
      method: 'GET',
      domain: 'api',
      path: '/2010-04-01/Accounts.json',
      summary: 'List the account and its subaccounts',
      paged: true,
      params: [
        { name: 'FriendlyName', type: 'string', max: 64 },
        { name: 'Status', type: 'enum', values: STATUSES },
        ...PAGE_PARAMS,
      ],
      async handler(req) {
        const friendlyName = req.input.string('FriendlyName');
        const status = req.input.string('Status') as AccountRow['status'] | undefined;
        const { items, next } = await accounts.list(
          req.principal,
          { friendlyName, status },
          req.page,
        );
        return listPage2010(req, 'accounts', items.map(show), next, {
          FriendlyName: friendlyName,
          Status: status,
        });
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: '/2010-04-01/Accounts.json',
      summary: 'Create a subaccount',
      params: [{ name: 'FriendlyName', type: 'string', max: 64 }],
      async handler(req) {
        requireAuthToken(req);
        const parent = await accounts.find(req.principal.accountSid);
        if (parent?.parent_sid) fail('forbidden', 'a subaccount cannot create subaccounts');
        const row = await accounts.createAccount(
          req.principal.accountSid,
          req.input.string('FriendlyName'),
        );
        return { status: 201, body: show(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}.json`,
      summary: 'Fetch an account',
      requireActive: false,
      handler(req) {
        // Answered at once when the row is cached, as it is for a client fetching in a loop.
        const row = accounts.find(req.account.sid);
        return row instanceof Promise ? row.then((r) => shown200(r, req)) : shown200(row, req);
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${ACCOUNT}.json`,
      summary: 'Update an account (FriendlyName, Status)',
      requireActive: false,
      params: [
        { name: 'FriendlyName', type: 'string', max: 64 },
        { name: 'Status', type: 'enum', values: STATUSES },
      ],
      async handler(req) {
        requireAuthToken(req);
        const row = await accounts.update(req.principal, req.account.sid, {
          friendlyName: req.input.string('FriendlyName'),
          status: req.input.string('Status') as AccountRow['status'] | undefined,
        });
        return { status: 200, body: show(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Keys.json`,
      summary: 'List API keys',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        requireAuthToken(req);
        const { items, next } = await accounts.listKeys(req.account.sid, req.page);
        return listPage2010(req, 'keys', items.map(keyJson), next);
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${ACCOUNT}/Keys.json`,
      summary: 'Create an API key (the secret is shown once)',
      params: [{ name: 'FriendlyName', type: 'string', max: 64 }],
      async handler(req) {
        requireAuthToken(req);
        const { row, secret } = await accounts.createKey(
          req.account.sid,
          req.input.string('FriendlyName'),
        );
        return { status: 201, body: { ...keyJson(row), secret } };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Keys/:Sid.json`,
      summary: 'Fetch an API key',
      async handler(req) {
        requireAuthToken(req);
        return {
          status: 200,
          body: keyJson(await accounts.getKey(req.account.sid, req.params.Sid ?? '')),
        };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${ACCOUNT}/Keys/:Sid.json`,
      summary: 'Update an API key',
      params: [{ name: 'FriendlyName', type: 'string', max: 64 }],
      async handler(req) {
        requireAuthToken(req);
        const row = await accounts.updateKey(
          req.account.sid,
          req.params.Sid ?? '',
          req.input.string('FriendlyName'),
        );
        return { status: 200, body: keyJson(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${ACCOUNT}/Keys/:Sid.json`,
      summary: 'Delete (revoke) an API key',
      async handler(req) {
        requireAuthToken(req);
        await accounts.deleteKey(req.account.sid, req.params.Sid ?? '');
        return { status: 204, body: undefined };
      },
    },
    // ---------------------------------------------- AuthToken rotation (accounts.twilio.com/v1)
    {
      method: 'POST',
      domain: 'accounts',
      path: '/v1/AuthTokens/Secondary',
      summary: 'Create a secondary AuthToken, valid beside the primary one until promoted',
      async handler(req) {
        requireAuthToken(req);
        const row = await accounts.createSecondaryToken(req.account.sid);
        return {
          status: 201,
          body: {
            account_sid: row.sid,
            date_created: iso8601(row.secondary_created ?? row.date_updated),
            date_updated: iso8601(row.date_updated),
            secondary_auth_token: row.secondary_auth_token,
            url: `${req.baseUrl}/v1/AuthTokens/Secondary`,
          },
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'accounts',
      path: '/v1/AuthTokens/Secondary',
      summary: 'Delete the secondary AuthToken',
      async handler(req) {
        requireAuthToken(req);
        await accounts.deleteSecondaryToken(req.account.sid);
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'POST',
      domain: 'accounts',
      path: '/v1/AuthTokens/Promote',
      summary: 'Promote the secondary AuthToken to primary; the old primary stops working',
      async handler(req) {
        requireAuthToken(req);
        const row = await accounts.promoteSecondaryToken(req.account.sid);
        return {
          status: 200,
          body: {
            account_sid: row.sid,
            auth_token: row.auth_token,
            date_created: iso8601(row.date_created),
            date_updated: iso8601(row.date_updated),
            url: `${req.baseUrl}/v1/AuthTokens/Promote`,
          },
        };
      },
    },
  ];
}
