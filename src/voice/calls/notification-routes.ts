// Notifications (NO…): the errors and warnings recorded against calls (a webhook that failed,
// TwiML that could not run, a module refused), with Twilio's error codes. Listed per call and
// for the whole account.
import { fail, rfc2822 } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import { NEWEST_FIRST, selectPage } from '../../store/index.js';
import { dateParams, echoFilters, whereDates } from '../shared/index.js';
import type { CallStore } from './call-store.js';
import type { NotificationRow } from './tables.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';

function notificationJson(row: NotificationRow, instance = false): Record<string, unknown> {
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    call_sid: row.call_sid,
    api_version: '2010-04-01',
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_created),
    error_code: String(row.error_code),
    log: String(row.log),
    message_date: rfc2822(row.date_created),
    message_text: row.message_text,
    more_info: `https://www.twilio.com/docs/errors/${row.error_code}`,
    request_url: row.request_url,
    request_method: 'POST',
    // The fetched instance also has what was sent and received; Switchboard keeps neither.
    ...(instance ? { request_variables: null, response_body: null, response_headers: null } : {}),
    uri: `/2010-04-01/Accounts/${row.account_sid}/Calls/${row.call_sid}/Notifications/${row.sid}.json`,
  };
}

const LIST_PARAMS: readonly ParamSpec[] = [
  { name: 'Log', type: 'enum', values: ['0', '1'] },
  ...dateParams('MessageDate'),
  ...PAGE_PARAMS,
];

export function notificationRoutes(calls: CallStore): RestRoute[] {
  const list = async (req: RestRequest, callSid: string | undefined) => {
    const i = req.input;
    let q = calls.db
      .selectFrom('call_notifications')
      .selectAll()
      .where('account_sid', '=', req.account.sid);
    if (callSid !== undefined) q = q.where('call_sid', '=', callSid);
    const log = i.string('Log');
    if (log !== undefined) q = q.where('log', '=', Number(log));
    q = whereDates(q, 'date_created', i, 'MessageDate');
    const page = await selectPage(q, req.page, NEWEST_FIRST);
    const items = page.items.map((r) => notificationJson(r));
    return listPage2010(req, 'notifications', items, page.next, echoFilters(i, LIST_PARAMS));
  };
  const find = async (req: RestRequest, callSid: string | undefined) => {
    const sid = req.params.Sid ?? '';
    const row = await calls.db
      .selectFrom('call_notifications')
      .selectAll()
      .where('account_sid', '=', req.account.sid)
      .where('sid', '=', sid)
      .executeTakeFirst();
    if (!row || (callSid !== undefined && row.call_sid !== callSid))
      fail('notFound', `Notification ${sid.slice(0, 40)}`);
    return { status: 200, body: notificationJson(row, true) };
  };
  const callSidOf = async (req: RestRequest) => {
    const sid = req.params.CallSid ?? '';
    if (!(await calls.get(req.account.sid, sid))) fail('notFound', `Call ${sid.slice(0, 40)}`);
    return sid;
  };
  return [
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Notifications.json`,
      summary: "List a call's notifications (errors and warnings), newest first",
      paged: true,
      params: LIST_PARAMS,
      handler: async (req) => list(req, await callSidOf(req)),
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Notifications/:Sid.json`,
      summary: 'Fetch a notification of a call',
      handler: async (req) => find(req, await callSidOf(req)),
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Notifications.json`,
      summary: "List the account's call notifications, newest first",
      paged: true,
      params: LIST_PARAMS,
      handler: (req) => list(req, undefined),
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Notifications/:Sid.json`,
      summary: 'Fetch a notification',
      handler: (req) => find(req, undefined),
    },
  ];
}
