// /tracking/v1/Trackers/{TrackerSid}/Triggers (extension): thresholds on a tracker's figures
// that call back, signed, once per period (triggers.ts).
import { fail, iso8601 } from '../core/index.js';
import { listPageV1, type RestRequest, type RestRoute } from '../core/rest.js';
import type { TrackerTriggerRow } from './tables.js';
import type { TrackerStore } from './tracker-store.js';
import { trackerOf } from './trackers.js';
import { TRIGGER_FIELDS, TRIGGER_PERIODS, type TrackerTriggers } from './triggers.js';

const BASE = '/v1/Trackers/:TrackerSid/Triggers';

function triggerJson(row: TrackerTriggerRow, current: number | undefined, baseUrl: string) {
  return {
    sid: row.sid,
    tracker_sid: row.tracker_sid,
    account_sid: row.account_sid,
    field: row.field,
    threshold: row.threshold,
    period: row.period,
    callback_url: row.callback_url,
    callback_method: row.callback_method,
    current_value: current ?? null,
    date_fired: row.date_fired === null ? null : iso8601(Number(row.date_fired)),
    date_created: iso8601(Number(row.date_created)),
    url: `${baseUrl}/v1/Trackers/${row.tracker_sid}/Triggers/${row.sid}`,
  };
}

export function trackerTriggerRoutes(
  trackers: TrackerStore,
  triggers: TrackerTriggers,
): RestRoute[] {
  const tracker = async (req: RestRequest) => {
    const row = await trackers.get(req.account.sid, req.params.TrackerSid ?? '');
    return row ? trackerOf(row) : fail('notFound', `Tracker ${req.params.TrackerSid}`);
  };
  const shown = async (req: RestRequest, row: TrackerTriggerRow) =>
    triggerJson(row, await triggers.valueOf(row), req.baseUrl);
  return [
    {
      method: 'POST',
      domain: 'tracking',
      path: BASE,
      summary:
        "Create a trigger: a signed callback when one of the tracker's figures crosses a value",
      params: [
        { name: 'Field', type: 'enum', values: TRIGGER_FIELDS, required: true },
        { name: 'Threshold', type: 'number', min: 0, required: true },
        { name: 'Period', type: 'enum', values: TRIGGER_PERIODS },
        { name: 'CallbackUrl', type: 'url', required: true },
        { name: 'CallbackMethod', type: 'enum', values: ['GET', 'POST'] },
      ],
      async handler(req) {
        const t = await tracker(req);
        const field = req.input.string('Field') ?? 'count';
        if (field !== 'count' && field !== 'events' && !(t.measures as string[]).includes(field)) {
          fail('invalidParameter', `Field ${field} is not one of the tracker's measures`);
        }
        const row = await triggers.create(t, {
          field,
          threshold: req.input.number('Threshold') ?? 0,
          period: req.input.string('Period') ?? 'day',
          callbackUrl: req.input.string('CallbackUrl') ?? '',
          callbackMethod: req.input.string('CallbackMethod') ?? 'POST',
        });
        return { status: 201, body: await shown(req, row) };
      },
    },
    {
      method: 'GET',
      domain: 'tracking',
      path: BASE,
      summary: "List a tracker's triggers",
      async handler(req) {
        const t = await tracker(req);
        const rows = await triggers.list(t.sid);
        const items = await Promise.all(rows.map((r) => shown(req, r)));
        return listPageV1(req, 'triggers', items, undefined);
      },
    },
    {
      method: 'GET',
      domain: 'tracking',
      path: `${BASE}/:Sid`,
      summary: 'Fetch a trigger with its current value',
      async handler(req) {
        const t = await tracker(req);
        return {
          status: 200,
          body: await shown(req, await triggers.get(t.sid, req.params.Sid ?? '')),
        };
      },
    },
    {
      method: 'DELETE',
      domain: 'tracking',
      path: `${BASE}/:Sid`,
      summary: 'Delete a trigger',
      async handler(req) {
        const t = await tracker(req);
        await triggers.remove(t.sid, req.params.Sid ?? '');
        return { status: 204, body: undefined };
      },
    },
  ];
}
