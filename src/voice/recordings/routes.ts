// Recordings (RE…): one table for every source (<Record>, Record=true, <Dial record>,
// conferences, the Call Recordings API), listed, fetched, downloaded and deleted through the
// account's collection and through the call's or the conference's own (Twilio's three paths
// to the same resource); started, paused, resumed and stopped on a live call through the
// call's collection.
import { readFile, rm, stat } from 'node:fs/promises';
import { Errors, TwilioError, fail, rfc2822 } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type ParamSpec,
  type RestReply,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import { NEWEST_FIRST, selectPage } from '../../store/index.js';
import { dateParams, echoFilters, whereDates } from '../shared/index.js';
import type { CallRecordingControl, RecordedCalls, RecordingReply } from './control.js';
import { recordingOptions, recordingParamSpecs } from './params.js';
import type { RecordingStore } from './store.js';
import type { RecordingRow } from './tables.js';

const ACCOUNT = '/2010-04-01/Accounts/:AccountSid';

/** Which recordings a collection holds: the account's, one call's, or one conference's. */
export type RecordingScope =
  | { readonly kind: 'account' }
  | { readonly kind: 'call'; readonly callSid: string }
  | { readonly kind: 'conference'; readonly conferenceSid: string };

function uriOf(row: RecordingRow, scope: RecordingScope): string {
  const account = `/2010-04-01/Accounts/${row.account_sid}`;
  if (scope.kind === 'call') return `${account}/Calls/${row.call_sid}/Recordings/${row.sid}.json`;
  if (scope.kind === 'conference')
    return `${account}/Conferences/${scope.conferenceSid}/Recordings/${row.sid}.json`;
  return `${account}/Recordings/${row.sid}.json`;
}

export function recordingJson(
  row: RecordingRow,
  scope: RecordingScope = { kind: 'account' },
): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${row.account_sid}/Recordings/${row.sid}`;
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    call_sid: row.call_sid,
    conference_sid: row.conference_sid ?? null,
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
    encryption_details: null,
    // The call's own collection reports which audio of the call is recorded.
    ...(scope.kind === 'call' ? { track: row.track ?? 'both' } : {}),
    media_url: `${base}.wav`,
    subresource_uris: {
      add_on_results: `${base}/AddOnResults.json`,
      transcriptions: `${base}/Transcriptions.json`,
    },
    uri: uriOf(row, scope),
  };
}

const LIST_PARAMS: readonly ParamSpec[] = [...dateParams('DateCreated'), ...PAGE_PARAMS];
const ACCOUNT_LIST_PARAMS: readonly ParamSpec[] = [
  { name: 'CallSid', type: 'sid', prefix: 'CA' },
  { name: 'ConferenceSid', type: 'sid', prefix: 'CF' },
  // Deleted recordings are gone at once here (none is kept "soft deleted").
  { name: 'IncludeSoftDeleted', type: 'bool' },
  ...LIST_PARAMS,
];

/** The recordings of one collection, newest first, with Twilio's filters and paging. */
export async function listRecordings(
  recordings: RecordingStore,
  req: RestRequest,
  scope: RecordingScope,
): Promise<RestReply> {
  const i = req.input;
  let q = recordings.db
    .selectFrom('recordings')
    .selectAll()
    .where('account_sid', '=', req.account.sid);
  const callSid = scope.kind === 'call' ? scope.callSid : i.string('CallSid');
  const conferenceSid =
    scope.kind === 'conference' ? scope.conferenceSid : i.string('ConferenceSid');
  if (callSid) q = q.where('call_sid', '=', callSid);
  if (conferenceSid) q = q.where('conference_sid', '=', conferenceSid);
  q = whereDates(q, 'date_created', i, 'DateCreated');
  const page = await selectPage(q, req.page, NEWEST_FIRST);
  const filters = echoFilters(i, scope.kind === 'account' ? ACCOUNT_LIST_PARAMS : LIST_PARAMS);
  return listPage2010(
    req,
    'recordings',
    page.items.map((r) => recordingJson(r, scope)),
    page.next,
    filters,
  );
}

/** A recording of the collection (404 when it is another call's, conference's or account's). */
export async function findRecording(
  recordings: RecordingStore,
  req: RestRequest,
  scope: RecordingScope,
): Promise<RecordingRow> {
  const sid = req.params.Sid ?? '';
  const row = await recordings.get(req.account.sid, sid);
  const inScope =
    row !== undefined &&
    (scope.kind === 'account' ||
      (scope.kind === 'call' && row.call_sid === scope.callSid) ||
      (scope.kind === 'conference' && row.conference_sid === scope.conferenceSid));
  if (!row || !inScope) fail('notFound', `Recording ${sid.slice(0, 40)}`);
  return row;
}

/** Deletes a finished recording: its row and its audio. A recording in progress stays. */
export async function deleteRecording(
  recordings: RecordingStore,
  row: RecordingRow,
): Promise<RestReply> {
  if (row.status === 'in-progress' || row.status === 'paused')
    throw new TwilioError(Errors.conflict, `Recording ${row.sid} is in progress`);
  await recordings.delete(row.sid);
  await rm(row.path, { force: true });
  return { status: 204, body: undefined };
}

/**
 * The Recordings routes: `recordings` holds the rows, `calls` finds the call a request names,
 * `control` runs a command on the live call (on whichever node holds it).
 */
export function recordingRoutes(
  recordings: RecordingStore,
  calls: RecordedCalls,
  control: CallRecordingControl,
): RestRoute[] {
  const account: RecordingScope = { kind: 'account' };
  const ofCall = (req: RestRequest): RecordingScope => ({
    kind: 'call',
    callSid: req.params.CallSid ?? '',
  });
  const callOf = async (req: RestRequest) => {
    const sid = req.params.CallSid ?? '';
    const call = await calls.get(req.account.sid, sid);
    if (!call) fail('notFound', `Call ${sid.slice(0, 40)}`);
    return call;
  };
  const callExists = async (req: RestRequest) => void (await callOf(req));
  /** A live call's recording as the node holding the call left it. */
  const answered = async (req: RestRequest, reply: RecordingReply): Promise<RecordingRow> => {
    if (!reply.ok) fail(reply.error, reply.detail);
    const row = await recordings.get(req.account.sid, reply.sid);
    if (!row) fail('notFound', `Recording ${reply.sid}`);
    return row;
  };
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Recordings.json`,
      summary:
        'Start recording a live call (both parties, from now until stopped or the call ends)',
      params: recordingParamSpecs(),
      async handler(req) {
        const call = await callOf(req);
        if (call.status !== 'in-progress')
          fail('callNotInProgress', `Call ${call.sid} is ${call.status}: it cannot be recorded`);
        const options = recordingOptions(req.input, 'StartCallRecordingAPI', 'do-not-trim');
        const row = await answered(
          req,
          await control.recording(call.sid, { op: 'start', options }),
        );
        req.tag('voice:recording-start');
        return { status: 201, body: recordingJson(row, ofCall(req)) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Recordings/:Sid.json`,
      summary: "Pause, resume or stop a live call's recording (Sid may be Twilio.CURRENT)",
      params: [
        {
          name: 'Status',
          type: 'enum',
          values: ['paused', 'in-progress', 'stopped'],
          required: true,
        },
        { name: 'PauseBehavior', type: 'enum', values: ['skip', 'silence'] },
      ],
      async handler(req) {
        const call = await callOf(req);
        const sid = req.params.Sid ?? '';
        if (call.status !== 'in-progress')
          fail('callNotInProgress', `Call ${call.sid} is ${call.status}: its recordings are over`);
        const status = req.input.string('Status') as 'paused' | 'in-progress' | 'stopped';
        const reply = await control.recording(call.sid, {
          op: 'update',
          sid,
          status,
          // Twilio's default: the paused time is kept, as silence.
          pauseBehavior: req.input.string('PauseBehavior') === 'skip' ? 'skip' : 'silence',
        });
        const row = await answered(req, reply);
        req.tag('voice:recording-update');
        const body = recordingJson(row, ofCall(req));
        // As on Twilio, a stop answers `stopped`; the resource is `completed` (or `absent`).
        return { status: 200, body: status === 'stopped' ? { ...body, status: 'stopped' } : body };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Recordings.json`,
      summary: 'List recordings, newest first',
      paged: true,
      params: ACCOUNT_LIST_PARAMS,
      handler: (req) => listRecordings(recordings, req, account),
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Recordings/:Sid.json`,
      summary: 'Fetch a recording',
      params: [{ name: 'IncludeSoftDeleted', type: 'bool' }],
      async handler(req) {
        return { status: 200, body: recordingJson(await findRecording(recordings, req, account)) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${ACCOUNT}/Recordings/:Sid.json`,
      summary: 'Delete a recording and its audio',
      async handler(req) {
        return deleteRecording(recordings, await findRecording(recordings, req, account));
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Recordings/:Sid.wav`,
      summary: "Download a recording's audio (WAV, 8 kHz mono)",
      async handler(req) {
        const row = await findRecording(recordings, req, account);
        const exists = await stat(row.path).then(
          () => true,
          () => false,
        );
        if (!exists) fail('notFound', `audio of recording ${row.sid} is no longer stored`);
        return { status: 200, body: await readFile(row.path), contentType: 'audio/x-wav' };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Recordings.json`,
      summary: "List a call's recordings, newest first",
      paged: true,
      params: LIST_PARAMS,
      async handler(req) {
        await callExists(req);
        return listRecordings(recordings, req, ofCall(req));
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Recordings/:Sid.json`,
      summary: 'Fetch a recording of a call',
      async handler(req) {
        const scope = ofCall(req);
        return {
          status: 200,
          body: recordingJson(await findRecording(recordings, req, scope), scope),
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${ACCOUNT}/Calls/:CallSid/Recordings/:Sid.json`,
      summary: 'Delete a recording of a call',
      async handler(req) {
        return deleteRecording(recordings, await findRecording(recordings, req, ofCall(req)));
      },
    },
  ];
}
