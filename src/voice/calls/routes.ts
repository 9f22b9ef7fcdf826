import { readFile, stat } from 'node:fs/promises';
import { fail, rfc2822, TwilioError, Errors } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type RestRequest,
  type RestRoute,
  splitPage,
  afterTimeAndSid,
} from '../../core/rest.js';
import { parseMicros } from '../../billing/index.js';
import type { VoiceEngine } from '../engine/engine.js';
import type { CallSpendLimit } from '../engine/session.js';
import type {
  CallRecordingOptions,
  RecordingEvent,
  RecordingTrack,
} from '../engine/call-recording.js';
import { validateModuleCode } from '../modules/index.js';
import type { VoiceDirectory } from '../engine/ports.js';
import type { StatusEvent } from '../engine/status-callbacks.js';
import type { CallStore } from './call-store.js';
import { FINAL_STATUSES, type CallRow, type NotificationRow, type RecordingRow } from './tables.js';

const CALLS = '/2010-04-01/Accounts/:AccountSid/Calls';

/**
 * Record=true on Calls create: the whole call, both parties mixed in one channel, from the
 * answer. Two-channel recordings and silence trimming are refused rather than ignored.
 */
function callRecording(input: RestRequest['input']): CallRecordingOptions {
  if (input.string('RecordingChannels') === 'dual')
    throw new TwilioError(
      Errors.invalidParameter,
      'RecordingChannels=dual is not supported: recordings are mono (both parties mixed)',
    );
  if (input.string('Trim') === 'trim-silence')
    throw new TwilioError(
      Errors.invalidParameter,
      'Trim=trim-silence is not supported: use Trim=do-not-trim (recordings are not trimmed)',
    );
  const events = (input.list('RecordingStatusCallbackEvent') ?? ['completed']).flatMap((e) =>
    e.split(/[\s,]+/).filter(Boolean),
  );
  const bad = events.find((e) => !RECORDING_EVENTS.includes(e as RecordingEvent));
  if (bad) throw new TwilioError(Errors.invalidParameter, `RecordingStatusCallbackEvent "${bad}"`);
  return {
    source: 'OutboundAPI',
    track: (input.string('RecordingTrack') ?? 'both') as RecordingTrack,
    statusCallback: input.string('RecordingStatusCallback'),
    statusCallbackMethod: (input.string('RecordingStatusCallbackMethod') ?? 'POST') as
      'GET' | 'POST',
    statusCallbackEvents: events as RecordingEvent[],
  };
}
const RECORDING_EVENTS: readonly RecordingEvent[] = ['in-progress', 'completed', 'absent'];

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
/** E.164 number, a SIP URI, or a client identity. */
const DIALABLE = /^(\+[1-9]\d{1,14}|sips?:[^\s]+|client:[A-Za-z0-9_.@-]{1,121})$/;

function callJson(row: CallRow): Record<string, unknown> {
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
    phone_number_sid: null,
    status: row.status,
    start_time: rfc2822(row.start_time),
    end_time: rfc2822(row.end_time),
    duration: duration === null ? null : String(duration),
    price: null,
    price_unit: 'USD',
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

function notificationJson(row: NotificationRow): Record<string, unknown> {
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
    uri: `/2010-04-01/Accounts/${row.account_sid}/Calls/${row.call_sid}/Notifications/${row.sid}.json`,
  };
}

function recordingJson(row: RecordingRow): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${row.account_sid}/Recordings/${row.sid}`;
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    call_sid: row.call_sid,
    api_version: '2010-04-01',
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    start_time: rfc2822(row.date_created),
    duration: String(Math.round(row.duration_ms / 1000)),
    channels: row.channels,
    status: row.status,
    source: row.source,
    price: null,
    price_unit: 'USD',
    error_code: null,
    media_url: `${base}.wav`,
    uri: `${base}.json`,
  };
}

export function callRoutes(
  calls: CallStore,
  engine: VoiceEngine,
  directory: VoiceDirectory,
): RestRoute[] {
  const getCall = async (req: RestRequest): Promise<CallRow> => {
    const row = await calls.get(req.account.sid, req.params.Sid ?? '');
    if (!row) fail('notFound', `Call ${String(req.params.Sid).slice(0, 40)}`);
    return row;
  };
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${CALLS}.json`,
      summary: 'Create an outbound call',
      params: [
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
        { name: 'RecordingChannels', type: 'enum', values: ['mono', 'dual'] },
        { name: 'RecordingStatusCallback', type: 'url' },
        { name: 'RecordingStatusCallbackMethod', type: 'enum', values: METHODS },
        { name: 'RecordingStatusCallbackEvent', type: 'list' },
        { name: 'RecordingTrack', type: 'enum', values: ['inbound', 'outbound', 'both'] },
        { name: 'Trim', type: 'enum', values: ['trim-silence', 'do-not-trim'] },
        { name: 'MachineDetection', type: 'string' },
        { name: 'CallerId', type: 'string' },
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
        const record = input.bool('Record') ? callRecording(input) : undefined;
        if (input.has('MachineDetection'))
          throw new TwilioError(Errors.invalidParameter, 'MachineDetection is not supported');
        const events = input.list('StatusCallbackEvent') ?? [];
        const badEvent = events.find((e) => !EVENTS.includes(e));
        if (badEvent)
          throw new TwilioError(Errors.invalidParameter, `StatusCallbackEvent "${badEvent}"`);
        let url = input.string('Url');
        let method = (input.string('Method') ?? 'POST') as 'GET' | 'POST';
        let fallbackUrl = input.string('FallbackUrl') ?? null;
        let moduleSid: string | null = null;
        const appSid = input.string('ApplicationSid');
        if (appSid) {
          const target = await directory.moduleBySid(req.account.sid, appSid);
          if (!target) throw new TwilioError(Errors.notFound, `Application ${appSid}`);
          ({ url, method } = target);
          fallbackUrl = target.fallbackUrl;
          moduleSid = target.moduleSid;
        }
        const row = await engine.createOutbound(
          {
            accountSid: req.account.sid,
            to,
            from: input.string('From') ?? '',
            url,
            twiml: input.string('Twiml'),
            method,
            moduleSid,
            fallbackUrl,
            fallbackMethod: (input.string('FallbackMethod') ?? 'POST') as 'GET' | 'POST',
            statusCallback: input.string('StatusCallback') ?? null,
            statusCallbackMethod: (input.string('StatusCallbackMethod') ?? 'POST') as
              'GET' | 'POST',
            statusCallbackEvents: events as StatusEvent[],
            timeoutS: input.int('Timeout') ?? 60,
            record,
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
      params: [
        { name: 'To', type: 'string' },
        { name: 'From', type: 'string' },
        { name: 'Status', type: 'enum', values: STATUSES },
        { name: 'ParentCallSid', type: 'string' },
        { name: 'StartTime', type: 'date' },
        { name: 'StartTime<', type: 'date' },
        { name: 'StartTime>', type: 'date' },
        { name: 'EndTime', type: 'date' },
        { name: 'EndTime<', type: 'date' },
        { name: 'EndTime>', type: 'date' },
        ...PAGE_PARAMS,
      ],
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
        const day = 86_400_000;
        const st = i.date('StartTime');
        if (st !== undefined)
          q = q.where('start_time', '>=', st).where('start_time', '<', st + day);
        const stBefore = i.date('StartTime<');
        if (stBefore !== undefined) q = q.where('start_time', '<=', stBefore);
        const stAfter = i.date('StartTime>');
        if (stAfter !== undefined) q = q.where('start_time', '>=', stAfter);
        const et = i.date('EndTime');
        if (et !== undefined) q = q.where('end_time', '>=', et).where('end_time', '<', et + day);
        const etBefore = i.date('EndTime<');
        if (etBefore !== undefined) q = q.where('end_time', '<=', etBefore);
        const etAfter = i.date('EndTime>');
        if (etAfter !== undefined) q = q.where('end_time', '>=', etAfter);
        const after = afterTimeAndSid(req);
        if (after)
          q = q.where((eb) =>
            eb(eb.refTuple('date_created', 'sid'), '<', eb.tuple(after[0], after[1])),
          );
        const rows = await q
          .orderBy('date_created', 'desc')
          .orderBy('sid', 'desc')
          .limit(req.page.pageSize + 1)
          .execute();
        const { items, next } = splitPage(req, rows, (last) => [last.date_created, last.sid]);
        return listPage2010(req, 'calls', items.map(callJson), next, {
          To: to,
          From: from,
          Status: status,
        });
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${CALLS}/:Sid.json`,
      summary: 'Fetch a call',
      async handler(req) {
        return { status: 200, body: callJson(await getCall(req)) };
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
        const status = i.string('Status');
        if (status === 'canceled' && row.status === 'in-progress') {
          // Twilio ignores canceled on an answered call.
        } else if (status) {
          await engine.control({ callSid: row.sid, action: 'hangup' });
        } else if (i.has('Twiml')) {
          await engine.control({
            callSid: row.sid,
            action: 'twiml',
            twiml: i.string('Twiml') ?? '',
          });
        } else if (i.has('Url')) {
          await engine.control({
            callSid: row.sid,
            action: 'redirect',
            url: i.string('Url') ?? '',
            method: (i.string('Method') ?? 'POST') as 'GET' | 'POST',
          });
        }
        req.tag('voice:call-update');
        return { status: 200, body: callJson((await calls.get(req.account.sid, row.sid)) ?? row) };
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
    {
      method: 'GET',
      domain: 'api',
      path: `${CALLS}/:Sid/Notifications.json`,
      summary: "List a call's notifications (errors and warnings)",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        await getCall(req);
        const rows = await calls.notifications(req.account.sid, req.params.Sid ?? '');
        return listPage2010(
          req,
          'notifications',
          rows.slice(0, req.page.pageSize).map(notificationJson),
          undefined,
        );
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: '/2010-04-01/Accounts/:AccountSid/Recordings.json',
      summary: 'List recordings, newest first',
      paged: true,
      params: [{ name: 'CallSid', type: 'sid', prefix: 'CA' }, ...PAGE_PARAMS],
      async handler(req) {
        let q = calls.db
          .selectFrom('recordings')
          .selectAll()
          .where('account_sid', '=', req.account.sid);
        const callSid = req.input.string('CallSid');
        if (callSid) q = q.where('call_sid', '=', callSid);
        const after = afterTimeAndSid(req);
        if (after)
          q = q.where((eb) =>
            eb(eb.refTuple('date_created', 'sid'), '<', eb.tuple(after[0], after[1])),
          );
        const rows = await q
          .orderBy('date_created', 'desc')
          .orderBy('sid', 'desc')
          .limit(req.page.pageSize + 1)
          .execute();
        const { items, next } = splitPage(req, rows, (last) => [last.date_created, last.sid]);
        return listPage2010(req, 'recordings', items.map(recordingJson), next, {
          CallSid: callSid,
        });
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: '/2010-04-01/Accounts/:AccountSid/Recordings/:Sid.json',
      summary: 'Fetch a recording',
      async handler(req) {
        const row = await calls.getRecording(req.account.sid, req.params.Sid ?? '');
        if (!row) fail('notFound', `Recording ${String(req.params.Sid).slice(0, 40)}`);
        return { status: 200, body: recordingJson(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: '/2010-04-01/Accounts/:AccountSid/Recordings/:Sid.wav',
      summary: "Download a recording's audio (WAV, 8 kHz mono)",
      async handler(req) {
        const row = await calls.getRecording(req.account.sid, req.params.Sid ?? '');
        if (!row) fail('notFound', `Recording ${String(req.params.Sid).slice(0, 40)}`);
        const exists = await stat(row.path).then(
          () => true,
          () => false,
        );
        if (!exists) fail('notFound', `audio of recording ${row.sid} is no longer stored`);
        return { status: 200, body: await readFile(row.path), contentType: 'audio/x-wav' };
      },
    },
  ];
}
