import { fail, rfc2822, TwilioError, Errors } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import { NEWEST_FIRST, selectPage } from '../../store/index.js';
import { formatMicros, parseMicros } from '../../billing/index.js';
import { recordingOptions, recordingParamSpecs } from '../recordings/index.js';
import { validateModuleCode } from '../modules/index.js';
import type { VoiceDirectory } from '../ports/index.js';
import type { StatusEvent } from '../callbacks/index.js';
import { dateParams, echoFilters, whereDates } from '../shared/index.js';
import type { CallStore } from './call-store.js';
import type { CallSpendLimit, CallUpdate, LiveCalls, OutboundCalls } from './control.js';
import { FINAL_STATUSES, type CallRow } from './tables.js';
import { TAGS_PARAM } from '../../core/tags.js';

const CALLS = '/2010-04-01/Accounts/:AccountSid/Calls';

/**
 * Extension parameters of Calls create: the call's own allotted cost (`SpendLimit`, in the
 * currency of the account's limit, else of the module's plan) and the module the call is
 * handed to when it reaches a limit (`SpendLimitHandoffModule`, a ModuleCode; without it the
 * account's SpendLimit HandoffModule, else the call ends).
 */
function callSpendLimit(
  amount: string | undefined,
  module: string | undefined,
): CallSpendLimit | undefined {
  const limitMicros = amount?.trim() ? parseMicros('SpendLimit', amount) : undefined;
  const handoffModule = module?.trim() ? validateModuleCode(module.trim()) : undefined;
  return limitMicros === undefined && handoffModule === undefined
    ? undefined
    : { limitMicros, handoffModule };
}
const STATUSES = [
  'queued',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
] as const;
const METHODS = ['GET', 'POST'] as const;
const EVENTS = ['initiated', 'ringing', 'answered', 'completed'];
/**
 * Calls create parameters of the real API that Switchboard refuses, each with its reason,
 * rather than leaving them to the generic "unknown parameter".
 */
const REFUSED_CREATE_PARAMS: readonly { name: string; why: string }[] = [
  ...[
    'MachineDetection',
    'MachineDetectionTimeout',
    'MachineDetectionSpeechThreshold',
    'MachineDetectionSpeechEndThreshold',
    'MachineDetectionSilenceTimeout',
    'AsyncAmd',
    'AsyncAmdStatusCallback',
    'AsyncAmdStatusCallbackMethod',
  ].map((name) => ({ name, why: 'answering machine detection is not supported' })),
  { name: 'Byoc', why: 'BYOC trunks are not supported: numbers go through the configured trunks' },
  { name: 'CallReason', why: 'branded calls (CallReason) are not supported' },
  { name: 'CallToken', why: 'call tokens of forwarded PSTN calls are not supported' },
  { name: 'ClientNotificationUrl', why: 'Voice SDK push notifications are not supported' },
];

const LIST_PARAMS: readonly ParamSpec[] = [
  { name: 'To', type: 'string', max: 256 },
  { name: 'From', type: 'string', max: 256 },
  { name: 'Status', type: 'enum', values: STATUSES },
  { name: 'ParentCallSid', type: 'sid', prefix: 'CA' },
  ...dateParams('StartTime'),
  ...dateParams('EndTime'),
  ...PAGE_PARAMS,
];

/** E.164 number, a SIP URI, or a client identity. */
const DIALABLE = /^(\+[1-9]\d{1,14}|sips?:[^\s]+|client:[A-Za-z0-9_.@-]{1,121})$/;

/** What billing rated a call's segments at: per currency, and whether one is still open. */
export type CallPrices = (
  callSids: readonly string[],
) => Promise<
  ReadonlyMap<string, readonly { priceMicros: number; currency: string; open: boolean }[]>
>;

/** A call's price and price_unit in the API. */
interface Price {
  readonly price: string | null;
  readonly unit: string;
}
const UNPRICED: Price = { price: null, unit: 'USD' };

/**
 * Twilio's price of a call: null until the call is over and its segments are rated, then
 * what it cost as a negative amount (a charge) with at least five decimals ("-0.03000").
 * A call no module controlled (a <Dial> leg: its time is on its parent's segments; an API
 * call that was never answered) has no segment and stays null, and so does one whose
 * segments were rated in several currencies (no one figure adds them up).
 */
async function pricesOf(prices: CallPrices, rows: readonly CallRow[]): Promise<Map<string, Price>> {
  const out = new Map<string, Price>();
  const over = rows.filter((r) => FINAL_STATUSES.has(r.status));
  if (over.length === 0) return out;
  const rated = await prices(over.map((r) => r.sid));
  for (const row of over) {
    const parts = rated.get(row.sid);
    if (!parts || parts.length === 0) continue;
    const unit = parts[0]!.currency;
    if (parts.length > 1 || parts[0]!.open) {
      out.set(row.sid, { price: null, unit });
      continue;
    }
    const [whole, frac = ''] = formatMicros(-parts[0]!.priceMicros).split('.');
    out.set(row.sid, { price: `${whole}.${frac.padEnd(5, '0')}`, unit });
  }
  return out;
}

function callJson(row: CallRow, price: Price = UNPRICED): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${row.account_sid}/Calls/${row.sid}`;
  const duration =
    row.answered_time && row.end_time
      ? Math.round((row.end_time - row.answered_time) / 1000)
      : row.end_time
        ? 0
        : null;
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    parent_call_sid: row.parent_call_sid,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    to: row.to,
    to_formatted: row.to,
    from: row.from,
    from_formatted: row.from,
    phone_number_sid: row.phone_number_sid ?? null,
    status: row.status,
    start_time: rfc2822(row.start_time),
    end_time: rfc2822(row.end_time),
    duration: duration === null ? null : String(duration),
    price: price.price,
    price_unit: price.unit,
    direction: row.direction,
    answered_by: null,
    api_version: '2010-04-01',
    forwarded_from: row.forwarded_from,
    group_sid: null,
    caller_name: row.caller_name,
    queue_time: '0',
    trunk_sid: null,
    module_sid: row.module_sid,
    uri: `${base}.json`,
    subresource_uris: {
      notifications: `${base}/Notifications.json`,
      recordings: `${base}/Recordings.json`,
      segments: `${base}/Segments.json`,
    },
  };
}

/**
 * The Calls routes: `calls` holds the records, `control` places and commands calls (the engine,
 * through its narrow port), `directory` resolves an ApplicationSid and the From's number.
 */
export function callRoutes(
  calls: CallStore,
  control: OutboundCalls & LiveCalls,
  directory: Pick<VoiceDirectory, 'moduleBySid' | 'numberSid'>,
  prices: CallPrices,
): RestRoute[] {
  const getCall = async (req: RestRequest): Promise<CallRow> => {
    const row = await calls.get(req.account.sid, req.params.Sid ?? '');
    if (!row) fail('notFound', `Call ${String(req.params.Sid).slice(0, 40)}`);
    return row;
  };
  const show = async (row: CallRow) => callJson(row, (await pricesOf(prices, [row])).get(row.sid));
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${CALLS}.json`,
      summary: 'Create an outbound call',
      params: [
        TAGS_PARAM,
        { name: 'To', type: 'string', required: true, max: 256 },
        { name: 'From', type: 'string', required: true, max: 256 },
        { name: 'Url', type: 'url' },
        { name: 'Twiml', type: 'string', max: 4000 },
        { name: 'ApplicationSid', type: 'sid', prefix: 'AP' },
        { name: 'Method', type: 'enum', values: METHODS },
        { name: 'FallbackUrl', type: 'url' },
        { name: 'FallbackMethod', type: 'enum', values: METHODS },
        { name: 'StatusCallback', type: 'url' },
        { name: 'StatusCallbackMethod', type: 'enum', values: METHODS },
        { name: 'StatusCallbackEvent', type: 'list' },
        { name: 'Timeout', type: 'int', min: 1, max: 600 },
        { name: 'Record', type: 'bool' },
        ...recordingParamSpecs(),
        { name: 'CallerId', type: 'string', max: 256 },
        { name: 'SendDigits', type: 'string', max: 32 },
        { name: 'TimeLimit', type: 'int', min: 1, max: 86_400 },
        { name: 'SipAuthUsername', type: 'string', max: 256 },
        { name: 'SipAuthPassword', type: 'string', max: 256 },
        ...REFUSED_CREATE_PARAMS.map((r): ParamSpec => ({ name: r.name, type: 'string' })),
        { name: 'SpendLimit', type: 'string', max: 20 },
        { name: 'SpendLimitHandoffModule', type: 'string', max: 260 },
      ],
      async handler(req) {
        const input = req.input;
        const to = input.string('To') ?? '';
        if (!DIALABLE.test(to))
          throw new TwilioError(
            Errors.invalidParameter,
            `To "${to}" must be E.164, sip: or client:`,
          );
        const sources = ['Url', 'Twiml', 'ApplicationSid'].filter((n) => input.has(n));
        if (sources.length !== 1)
          throw new TwilioError(
            Errors.missingParameter,
            'exactly one of Url, Twiml or ApplicationSid',
          );
        // Record=true: the whole call from the answer; trimmed unless Trim=do-not-trim (Twilio's
        // default for Calls create is trim-silence).
        const record = input.bool('Record')
          ? recordingOptions(input, 'OutboundAPI', 'trim-silence')
          : undefined;
        const refused = REFUSED_CREATE_PARAMS.find((r) => input.has(r.name));
        if (refused)
          throw new TwilioError(Errors.invalidParameter, `${refused.name}: ${refused.why}`);
        const digits = input.string('SendDigits');
        if (digits !== undefined && !/^[0-9*#wW]+$/.test(digits))
          throw new TwilioError(Errors.invalidParameter, 'SendDigits may hold 0-9, *, # and w');
        const username = input.string('SipAuthUsername');
        const password = input.string('SipAuthPassword');
        if ((username === undefined) !== (password === undefined))
          throw new TwilioError(
            Errors.missingParameter,
            'SipAuthUsername and SipAuthPassword go together',
          );
        if (username !== undefined && !/^sips?:/.test(to))
          throw new TwilioError(Errors.invalidParameter, 'SipAuthUsername needs a sip: To');
        const events = input.list('StatusCallbackEvent') ?? [];
        const badEvent = events.find((e) => !EVENTS.includes(e));
        if (badEvent)
          throw new TwilioError(Errors.invalidParameter, `StatusCallbackEvent "${badEvent}"`);
        let url = input.string('Url');
        let method = (input.string('Method') ?? 'POST') as 'GET' | 'POST';
        let fallbackUrl = input.string('FallbackUrl') ?? null;
        let fallbackMethod = (input.string('FallbackMethod') ?? 'POST') as 'GET' | 'POST';
        let statusCallback = input.string('StatusCallback') ?? null;
        let statusCallbackMethod = (input.string('StatusCallbackMethod') ?? 'POST') as
          'GET' | 'POST';
        let moduleSid: string | null = null;
        const appSid = input.string('ApplicationSid');
        if (appSid) {
          // As on Twilio, the application's webhooks replace Url, FallbackUrl and StatusCallback.
          const target = await directory.moduleBySid(req.account.sid, appSid);
          if (!target) throw new TwilioError(Errors.notFound, `Application ${appSid}`);
          ({ url, method, fallbackUrl, fallbackMethod } = target);
          statusCallback = target.statusCallback;
          statusCallbackMethod = target.statusCallbackMethod;
          moduleSid = target.moduleSid;
        }
        const from = input.string('From') ?? '';
        const row = await control.createOutbound(
          {
            accountSid: req.account.sid,
            to,
            from,
            phoneNumberSid: await directory.numberSid(req.account.sid, from),
            url,
            twiml: input.string('Twiml'),
            method,
            moduleSid,
            fallbackUrl,
            fallbackMethod,
            statusCallback,
            statusCallbackMethod,
            statusCallbackEvents: events as StatusEvent[],
            timeoutS: input.int('Timeout') ?? 60,
            record,
            callerId: input.string('CallerId'),
            credentials:
              username !== undefined && password !== undefined ? { username, password } : undefined,
            sendDigits: digits,
            timeLimitS: input.int('TimeLimit'),
            spendLimit: callSpendLimit(
              input.string('SpendLimit'),
              input.string('SpendLimitHandoffModule'),
            ),
          },
          req.account.authToken,
        );
        req.tag('voice:call-create');
        return { status: 201, body: callJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${CALLS}.json`,
      summary: 'List calls, newest first',
      paged: true,
      params: LIST_PARAMS,
      async handler(req) {
        const i = req.input;
        let q = calls.db.selectFrom('calls').selectAll().where('account_sid', '=', req.account.sid);
        const to = i.string('To');
        const from = i.string('From');
        const status = i.string('Status') as CallRow['status'] | undefined;
        const parent = i.string('ParentCallSid');
        if (to) q = q.where('to', '=', to);
        if (from) q = q.where('from', '=', from);
        if (status) q = q.where('status', '=', status);
        if (parent) q = q.where('parent_call_sid', '=', parent);
        q = whereDates(q, 'start_time', i, 'StartTime');
        q = whereDates(q, 'end_time', i, 'EndTime');
        const page = await selectPage(q, req.page, NEWEST_FIRST);
        const filters = echoFilters(i, LIST_PARAMS);
        const priced = await pricesOf(prices, page.items);
        const items = page.items.map((r) => callJson(r, priced.get(r.sid)));
        return listPage2010(req, 'calls', items, page.next, filters);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${CALLS}/:Sid.json`,
      summary: 'Fetch a call',
      async handler(req) {
        return { status: 200, body: await show(await getCall(req)) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${CALLS}/:Sid.json`,
      summary: 'Update a live call: redirect it (Url or Twiml) or end it (Status)',
      params: [
        { name: 'Url', type: 'url' },
        { name: 'Method', type: 'enum', values: METHODS },
        { name: 'Twiml', type: 'string', max: 4000 },
        { name: 'Status', type: 'enum', values: ['canceled', 'completed'] },
        { name: 'FallbackUrl', type: 'url' },
        { name: 'FallbackMethod', type: 'enum', values: METHODS },
        { name: 'StatusCallback', type: 'url' },
        { name: 'StatusCallbackMethod', type: 'enum', values: METHODS },
        { name: 'TimeLimit', type: 'int', min: 1, max: 86_400 },
      ],
      async handler(req) {
        const row = await getCall(req);
        const i = req.input;
        if (FINAL_STATUSES.has(row.status)) {
          throw new TwilioError(
            { code: 21220, status: 400, message: 'Call is not in-progress. Cannot redirect.' },
            row.sid,
          );
        }
        if (i.has('Url') && i.has('Twiml'))
          throw new TwilioError(Errors.invalidParameter, 'give Url or Twiml, not both');
        const method = (name: string) => (i.string(name) ?? 'POST') as 'GET' | 'POST';
        const fallbackUrl = i.string('FallbackUrl');
        const statusCallback = i.string('StatusCallback');
        const update: CallUpdate = {
          status: i.string('Status') as CallUpdate['status'],
          redirect: i.has('Twiml')
            ? { twiml: i.string('Twiml') ?? '' }
            : i.has('Url')
              ? { url: i.string('Url') ?? '', method: method('Method') }
              : undefined,
          fallback: fallbackUrl
            ? { url: fallbackUrl, method: method('FallbackMethod') }
            : undefined,
          statusCallback: statusCallback
            ? { url: statusCallback, method: method('StatusCallbackMethod') }
            : undefined,
          timeLimitS: i.int('TimeLimit'),
        };
        await control.control({ callSid: row.sid, action: 'update', update });
        req.tag('voice:call-update');
        return {
          status: 200,
          body: await show((await calls.get(req.account.sid, row.sid)) ?? row),
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${CALLS}/:Sid.json`,
      summary: 'Delete a finished call record',
      async handler(req) {
        const row = await getCall(req);
        if (!FINAL_STATUSES.has(row.status))
          throw new TwilioError(Errors.conflict, 'a live call cannot be deleted; end it first');
        await calls.db.deleteFrom('calls').where('sid', '=', row.sid).execute();
        return { status: 204, body: undefined };
      },
    },
  ];
}
