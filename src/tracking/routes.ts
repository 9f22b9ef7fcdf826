// /tracking/v1/Trackers (Switchboard extension, v1 conventions as messaging/v1): CRUD of
// trackers and their Measurements over a time range.
import { fail, iso8601 } from '../core/index.js';
import {
  PAGE_PARAMS,
  listPageV1,
  type ParamSpec,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import { checkTags } from '../core/tags.js';
import type { Kysely } from '../store/index.js';
import { measure, measurementJson } from './measurements.js';
import type { TrackerRegistry } from './registry.js';
import type { TrackerRow, TrackingTables } from './tables.js';
import type { TrackerInput, TrackerStore } from './tracker-store.js';
import {
  BUCKET_MS,
  EVENT_KINDS,
  MEASURES,
  trackerOf,
  type BucketSize,
  type Measure,
} from './trackers.js';

const BUCKETS = Object.keys(BUCKET_MS) as BucketSize[];
/** At most this many buckets in one measurement's series. */
const MAX_BUCKETS = 1500;

const WRITE_PARAMS: readonly ParamSpec[] = [
  { name: 'FriendlyName', type: 'string', max: 64 },
  { name: 'Tags', type: 'list', description: 'The tags whose events the tracker follows' },
  { name: 'Match', type: 'enum', values: ['all', 'any'] },
  { name: 'EventKinds', type: 'list', description: `Of ${EVENT_KINDS.join(', ')}` },
  { name: 'Measures', type: 'list', description: `Of ${MEASURES.join(', ')}` },
  { name: 'Bucket', type: 'enum', values: BUCKETS },
];

export function trackerJson(row: TrackerRow, baseUrl: string): Record<string, unknown> {
  const url = `${baseUrl}/v1/Trackers/${row.sid}`;
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    friendly_name: row.friendly_name,
    tags: JSON.parse(row.tags) as unknown,
    match: row.match,
    event_kinds: row.event_kinds ? (JSON.parse(row.event_kinds) as unknown) : null,
    measures: JSON.parse(row.measures) as unknown,
    bucket: row.bucket,
    date_created: iso8601(Number(row.date_created)),
    date_updated: iso8601(Number(row.date_updated)),
    url,
    links: { measurements: `${url}/Measurements`, events: `${url}/Events` },
  };
}

function readInput(req: RestRequest, creating: boolean): Partial<TrackerInput> {
  const out: { -readonly [K in keyof TrackerInput]?: TrackerInput[K] } = {};
  const name = req.input.string('FriendlyName');
  if (name !== undefined) out.friendlyName = name;
  const tags = req.input.list('Tags');
  if (tags !== undefined) {
    if (tags.length === 0) fail('invalidParameter', 'Tags must name at least one tag');
    out.tags = checkTags(tags);
  } else if (creating) fail('missingParameter', 'Tags');
  const match = req.input.string('Match');
  if (match !== undefined) out.match = match as 'all' | 'any';
  const kinds = req.input.list('EventKinds');
  if (kinds !== undefined) {
    const bad = kinds.find((k) => !(EVENT_KINDS as readonly string[]).includes(k));
    if (bad) fail('invalidParameter', `EventKinds: ${bad} is not one of ${EVENT_KINDS.join(', ')}`);
    out.eventKinds = kinds.length ? [...new Set(kinds)] : null;
  }
  const measures = req.input.list('Measures');
  if (measures !== undefined) {
    const bad = measures.find((m) => !(MEASURES as readonly string[]).includes(m));
    if (bad) fail('invalidParameter', `Measures: ${bad} is not one of ${MEASURES.join(', ')}`);
    out.measures = [...new Set(measures)] as Measure[];
  }
  const bucket = req.input.string('Bucket');
  if (bucket !== undefined) out.bucket = bucket as BucketSize;
  return out;
}

export function trackerRoutes(
  trackers: TrackerStore,
  registry: TrackerRegistry,
  db: Kysely<TrackingTables>,
  flush: () => Promise<void>,
): RestRoute[] {
  const found = async (req: RestRequest): Promise<TrackerRow> => {
    const row = await trackers.get(req.account.sid, req.params.Sid ?? '');
    return row ?? fail('notFound', `Tracker ${req.params.Sid}`);
  };
  return [
    {
      method: 'POST',
      domain: 'tracking',
      path: '/v1/Trackers',
      summary: 'Create a tracker: the events of some tags, and what to measure of them',
      params: WRITE_PARAMS,
      async handler(req) {
        const given = readInput(req, true);
        const row = await trackers.create(req.account.sid, {
          friendlyName: given.friendlyName ?? 'tracker',
          tags: given.tags!,
          match: given.match ?? 'all',
          eventKinds: given.eventKinds ?? null,
          measures: given.measures ?? [...MEASURES],
          bucket: given.bucket ?? 'hour',
        });
        await registry.changed();
        return { status: 201, body: trackerJson(row, req.baseUrl) };
      },
    },
    {
      method: 'GET',
      domain: 'tracking',
      path: '/v1/Trackers',
      summary: "List the account's trackers",
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const page = await trackers.list(req.account.sid, req.page);
        return listPageV1(
          req,
          'trackers',
          page.items.map((r) => trackerJson(r, req.baseUrl)),
          page.next,
        );
      },
    },
    {
      method: 'GET',
      domain: 'tracking',
      path: '/v1/Trackers/:Sid',
      summary: 'Fetch a tracker',
      async handler(req) {
        return { status: 200, body: trackerJson(await found(req), req.baseUrl) };
      },
    },
    {
      method: 'POST',
      domain: 'tracking',
      path: '/v1/Trackers/:Sid',
      summary: 'Update a tracker (from now on; what it counted stays)',
      params: WRITE_PARAMS,
      async handler(req) {
        await found(req);
        const row = await trackers.update(req.account.sid, req.params.Sid!, readInput(req, false));
        await registry.changed();
        return { status: 200, body: trackerJson(row ?? (await found(req)), req.baseUrl) };
      },
    },
    {
      method: 'DELETE',
      domain: 'tracking',
      path: '/v1/Trackers/:Sid',
      summary: 'Delete a tracker and its measurements',
      async handler(req) {
        if (!(await trackers.delete(req.account.sid, req.params.Sid ?? '')))
          fail('notFound', `Tracker ${req.params.Sid}`);
        await registry.changed();
        return { status: 204, body: null };
      },
    },
    {
      method: 'GET',
      domain: 'tracking',
      path: '/v1/Trackers/:Sid/Measurements',
      summary: "A tracker's totals and bucketed series over a time range (default: the last day)",
      params: [
        { name: 'StartTime', type: 'date' },
        { name: 'EndTime', type: 'date' },
        { name: 'Bucket', type: 'enum', values: BUCKETS },
      ],
      async handler(req) {
        const t = trackerOf(await found(req));
        const size = (req.input.string('Bucket') as BucketSize | undefined) ?? t.bucket;
        const ms = BUCKET_MS[size];
        const end = req.input.date('EndTime') ?? Date.now() + 1;
        const startGiven = req.input.date('StartTime') ?? end - 86_400_000;
        const start = startGiven - (startGiven % ms);
        if (end <= start) fail('invalidParameter', 'EndTime must be after StartTime');
        if ((end - start) / ms > MAX_BUCKETS)
          fail('invalidParameter', `the range spans more than ${MAX_BUCKETS} ${size} buckets`);
        // What was logged before this request is in its answer.
        await flush();
        const m = await measure(db, t, start, end, size);
        return {
          status: 200,
          body: measurementJson(t, m, start, end, size, `${req.baseUrl}${req.path}`),
        };
      },
    },
  ];
}
