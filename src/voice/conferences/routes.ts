// Conferences and Participants (Twilio 2010-04-01 shapes). Reads come from the SQL store;
// live commands (end, mute, hold, kick) go to the node holding the room.
import { fail, rfc2822, TwilioError, Errors } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import type { Conferences } from './conferences.js';
import type { OutboundCalls } from '../calls/index.js';
import {
  deleteRecording,
  findRecording,
  listRecordings,
  recordingJson,
  type RecordingScope,
  type RecordingStore,
} from '../recordings/index.js';
import { dateParams, echoFilters, whereDates } from '../shared/index.js';
import { NEWEST_FIRST, selectPage, sortBy } from '../../store/index.js';
import type { ConferenceRow, ParticipantRow } from './tables.js';
import { dialInTwiml, participantCreateParams } from './dial-in.js';
import { TAGS_PARAM } from '../../core/tags.js';

const CONFERENCES = '/2010-04-01/Accounts/:AccountSid/Conferences';
const PARTICIPANTS = `${CONFERENCES}/:ConferenceSid/Participants`;
const METHODS = ['GET', 'POST'] as const;

export function conferenceJson(row: ConferenceRow): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${row.account_sid}/Conferences/${row.sid}`;
  return {
    account_sid: row.account_sid,
    api_version: '2010-04-01',
    call_sid_ending_conference: row.call_sid_ending_conference,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    friendly_name: row.friendly_name,
    reason_conference_ended: row.reason_conference_ended,
    region: 'us1',
    sid: row.sid,
    status: row.status,
    subresource_uris: {
      participants: `${base}/Participants.json`,
      recordings: `${base}/Recordings.json`,
    },
    uri: `${base}.json`,
  };
}

export function participantJson(row: ParticipantRow): Record<string, unknown> {
  return {
    account_sid: row.account_sid,
    call_sid: row.call_sid,
    call_sid_to_coach: null,
    coaching: false,
    conference_sid: row.conference_sid,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    end_conference_on_exit: row.end_conference_on_exit === 1,
    hold: row.hold === 1,
    label: row.label,
    muted: row.muted === 1,
    queue_time: null,
    start_conference_on_enter: row.start_conference_on_enter === 1,
    status: row.status,
    uri: `/2010-04-01/Accounts/${row.account_sid}/Conferences/${row.conference_sid}/Participants/${row.call_sid}.json`,
  };
}

const CONFERENCE_LIST_PARAMS: readonly ParamSpec[] = [
  { name: 'FriendlyName', type: 'string', max: 128 },
  { name: 'Status', type: 'enum', values: ['init', 'in-progress', 'completed'] },
  ...dateParams('DateCreated'),
  ...dateParams('DateUpdated'),
  ...PAGE_PARAMS,
];

/** Participants: in the order they joined, the call SID breaking ties. */
const BY_JOIN = sortBy('asc', ['date_created', 'number'], ['call_sid', 'string']);

const LIVE: readonly ParticipantRow['status'][] = ['queued', 'connecting', 'ringing', 'connected'];

/**
 * The Conferences, Participants and conference Recordings routes; `outbound` places the call
 * of a dialled-in participant (the engine, through its narrow port).
 */
export function conferenceRoutes(
  conferences: Conferences,
  outbound: OutboundCalls,
  recordings: RecordingStore,
): RestRoute[] {
  const { store } = conferences;
  const recordingsOf = async (req: RestRequest): Promise<RecordingScope> => ({
    kind: 'conference',
    conferenceSid: (await getConference(req)).sid,
  });
  const getConference = async (req: RestRequest): Promise<ConferenceRow> => {
    const sid = req.params.ConferenceSid ?? req.params.Sid ?? '';
    const row = await store.get(req.account.sid, sid);
    if (!row) fail('notFound', `Conference ${sid.slice(0, 40)}`);
    return row;
  };
  const getParticipant = async (req: RestRequest): Promise<ParticipantRow> => {
    const conference = await getConference(req);
    const key = req.params.CallSid ?? '';
    const row = await store.participant(req.account.sid, conference.sid, key);
    if (!row) fail('notFound', `Participant ${key.slice(0, 130)} of ${conference.sid}`);
    return row;
  };
  return [
    {
      method: 'GET',
      domain: 'api',
      path: `${CONFERENCES}.json`,
      summary: 'List conferences, newest first',
      paged: true,
      params: CONFERENCE_LIST_PARAMS,
      async handler(req) {
        const i = req.input;
        let q = store.db
          .selectFrom('conferences')
          .selectAll()
          .where('account_sid', '=', req.account.sid);
        const name = i.string('FriendlyName');
        const status = i.string('Status') as ConferenceRow['status'] | undefined;
        if (name) q = q.where('friendly_name', '=', name);
        if (status) q = q.where('status', '=', status);
        q = whereDates(q, 'date_created', i, 'DateCreated');
        q = whereDates(q, 'date_updated', i, 'DateUpdated');
        const page = await selectPage(q, req.page, NEWEST_FIRST);
        const filters = echoFilters(i, CONFERENCE_LIST_PARAMS);
        return listPage2010(req, 'conferences', page.items.map(conferenceJson), page.next, filters);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${CONFERENCES}/:Sid.json`,
      summary: 'Fetch a conference',
      async handler(req) {
        return { status: 200, body: conferenceJson(await getConference(req)) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${CONFERENCES}/:Sid.json`,
      summary: 'End a conference (Status=completed); every participant leaves it',
      params: [
        { name: 'Status', type: 'enum', values: ['completed'] },
        { name: 'AnnounceUrl', type: 'url' },
        { name: 'AnnounceMethod', type: 'enum', values: METHODS },
      ],
      async handler(req) {
        const row = await getConference(req);
        if (req.input.has('AnnounceUrl'))
          throw new TwilioError(
            Errors.invalidParameter,
            'AnnounceUrl is not supported; redirect the participants instead',
          );
        if (req.input.string('Status') === 'completed' && row.status !== 'completed') {
          await conferences.command({ conferenceSid: row.sid, action: 'end' });
          req.tag('voice:conference-end');
        }
        return {
          status: 200,
          body: conferenceJson((await store.get(req.account.sid, row.sid)) ?? row),
        };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${PARTICIPANTS}.json`,
      summary: "List a conference's current participants",
      paged: true,
      params: [
        { name: 'Muted', type: 'bool' },
        { name: 'Hold', type: 'bool' },
        { name: 'Coaching', type: 'bool' },
        ...PAGE_PARAMS,
      ],
      async handler(req) {
        const conference = await getConference(req);
        const i = req.input;
        let q = store.db
          .selectFrom('conference_participants')
          .selectAll()
          .where('account_sid', '=', req.account.sid)
          .where('conference_sid', '=', conference.sid)
          .where('status', 'in', LIVE);
        const muted = i.bool('Muted');
        const hold = i.bool('Hold');
        if (muted !== undefined) q = q.where('muted', '=', muted ? 1 : 0);
        if (hold !== undefined) q = q.where('hold', '=', hold ? 1 : 0);
        // Nobody coaches here, so Coaching=true matches no participant.
        if (i.bool('Coaching') === true) q = q.where('call_sid', '=', '');
        const { items, next } = await selectPage(q, req.page, BY_JOIN);
        return listPage2010(req, 'participants', items.map(participantJson), next, {
          Muted: muted === undefined ? undefined : String(muted),
          Hold: hold === undefined ? undefined : String(hold),
        });
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${PARTICIPANTS}.json`,
      summary: 'Dial a new participant into the conference (an outbound call that joins it)',
      params: [TAGS_PARAM, ...participantCreateParams],
      async handler(req) {
        const conference = await getConference(req);
        if (conference.status === 'completed')
          throw new TwilioError(Errors.conferenceNotLive, `${conference.sid} has ended`);
        const { request, row } = dialInTwiml(req, conference);
        const call = await outbound.createOutbound(request, req.account.authToken);
        const participant: ParticipantRow = { ...row, call_sid: call.sid };
        await store.insertParticipant(participant);
        conferences.watchDialIn(conference.sid, req.account.sid, call.sid);
        req.tag('voice:conference-participant-create');
        return { status: 201, body: participantJson(participant) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${PARTICIPANTS}/:CallSid.json`,
      summary: 'Fetch a participant by its CallSid or label',
      async handler(req) {
        return { status: 200, body: participantJson(await getParticipant(req)) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${PARTICIPANTS}/:CallSid.json`,
      summary: 'Mute, hold or change a live participant',
      params: [
        { name: 'Muted', type: 'bool' },
        { name: 'Hold', type: 'bool' },
        { name: 'HoldUrl', type: 'url' },
        { name: 'HoldMethod', type: 'enum', values: METHODS },
        { name: 'AnnounceUrl', type: 'url' },
        { name: 'AnnounceMethod', type: 'enum', values: METHODS },
        { name: 'WaitUrl', type: 'url' },
        { name: 'WaitMethod', type: 'enum', values: METHODS },
        { name: 'BeepOnExit', type: 'bool' },
        { name: 'EndConferenceOnExit', type: 'bool' },
        { name: 'Coaching', type: 'bool' },
        { name: 'CallSidToCoach', type: 'sid', prefix: 'CA' },
      ],
      async handler(req) {
        const row = await getParticipant(req);
        const i = req.input;
        for (const name of ['AnnounceUrl', 'WaitUrl', 'BeepOnExit', 'CallSidToCoach'])
          if (i.has(name))
            throw new TwilioError(
              Errors.invalidParameter,
              `${name} is not supported on participants`,
            );
        if (i.bool('Coaching'))
          throw new TwilioError(Errors.invalidParameter, 'Coaching is not supported');
        if (!LIVE.includes(row.status))
          throw new TwilioError(
            Errors.notFound,
            `Participant ${row.call_sid} has left the conference`,
          );
        const muted = i.bool('Muted');
        const hold = i.bool('Hold');
        const endOnExit = i.bool('EndConferenceOnExit');
        await conferences.command({
          conferenceSid: row.conference_sid,
          callSid: row.call_sid,
          action: 'update',
          ...(muted !== undefined ? { muted } : {}),
          ...(hold !== undefined ? { hold } : {}),
          ...(i.has('HoldUrl') ? { holdUrl: i.string('HoldUrl') ?? '' } : {}),
          ...(i.has('HoldMethod') ? { holdMethod: i.string('HoldMethod') as 'GET' | 'POST' } : {}),
          ...(endOnExit !== undefined ? { endConferenceOnExit: endOnExit } : {}),
        });
        req.tag('voice:conference-participant-update');
        // The holding node applies the change; the reply shows it as requested.
        const bit = (b: boolean | undefined, was: number) => (b === undefined ? was : b ? 1 : 0);
        return {
          status: 200,
          body: participantJson({
            ...row,
            muted: bit(muted, row.muted),
            hold: bit(hold, row.hold),
            end_conference_on_exit: bit(endOnExit, row.end_conference_on_exit),
          }),
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${PARTICIPANTS}/:CallSid.json`,
      summary: 'Kick a participant out of the conference (its Dial ends)',
      async handler(req) {
        const row = await getParticipant(req);
        if (!LIVE.includes(row.status))
          throw new TwilioError(
            Errors.notFound,
            `Participant ${row.call_sid} has left the conference`,
          );
        await conferences.command({
          conferenceSid: row.conference_sid,
          callSid: row.call_sid,
          action: 'kick',
        });
        req.tag('voice:conference-participant-kick');
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${CONFERENCES}/:ConferenceSid/Recordings.json`,
      summary: "List a conference's recordings, newest first",
      paged: true,
      params: [...dateParams('DateCreated'), ...PAGE_PARAMS],
      async handler(req) {
        return listRecordings(recordings, req, await recordingsOf(req));
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${CONFERENCES}/:ConferenceSid/Recordings/:Sid.json`,
      summary: 'Fetch a conference recording',
      async handler(req) {
        const scope = await recordingsOf(req);
        return {
          status: 200,
          body: recordingJson(await findRecording(recordings, req, scope), scope),
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${CONFERENCES}/:ConferenceSid/Recordings/:Sid.json`,
      summary: 'Delete a conference recording and its audio',
      async handler(req) {
        return deleteRecording(
          recordings,
          await findRecording(recordings, req, await recordingsOf(req)),
        );
      },
    },
  ];
}
