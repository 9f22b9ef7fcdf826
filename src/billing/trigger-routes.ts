// Usage Triggers routes (2010 API), driven by `client.usage.triggers` in the SDK.
import { rfc2822 } from '../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  splitPage,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import type { UsageTriggerRow } from './tables.js';
import { RECURRING, TRIGGER_BY, usageRecordUri, type UsageTriggers } from './triggers.js';

const BASE = '/2010-04-01/Accounts/:AccountSid/Usage/Triggers';
const METHODS = ['GET', 'POST'] as const;

function triggerJson(row: UsageTriggerRow, current: number): Record<string, unknown> {
  return {
    account_sid: row.account_sid,
    api_version: '2010-04-01',
    callback_method: row.callback_method,
    callback_url: row.callback_url,
    current_value: String(current),
    date_created: rfc2822(row.date_created),
    date_fired: row.date_fired === null ? null : rfc2822(row.date_fired),
    date_updated: rfc2822(row.date_updated),
    friendly_name: row.friendly_name,
    recurring: row.recurring,
    sid: row.sid,
    trigger_by: row.trigger_by,
    trigger_value: String(row.threshold),
    uri: `/2010-04-01/Accounts/${row.account_sid}/Usage/Triggers/${row.sid}.json`,
    usage_category: row.usage_category,
    usage_record_uri: usageRecordUri(row),
  };
}

export function triggerRoutes(triggers: UsageTriggers): RestRoute[] {
  const shown = async (row: UsageTriggerRow) => triggerJson(row, await triggers.currentValue(row));
  const sid = (req: RestRequest) => req.params.Sid ?? '';
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${BASE}.json`,
      summary: 'Create a usage trigger: a callback when a usage category crosses a value',
      params: [
        { name: 'CallbackUrl', type: 'url', required: true },
        { name: 'TriggerValue', type: 'string', required: true, max: 32 },
        { name: 'UsageCategory', type: 'string', required: true, max: 80 },
        { name: 'CallbackMethod', type: 'enum', values: METHODS },
        { name: 'FriendlyName', type: 'string', max: 64 },
        { name: 'Recurring', type: 'enum', values: RECURRING },
        { name: 'TriggerBy', type: 'enum', values: TRIGGER_BY },
      ],
      async handler(req) {
        const row = await triggers.create(req.account.sid, {
          callbackUrl: req.input.string('CallbackUrl') ?? '',
          triggerValue: req.input.string('TriggerValue') ?? '',
          usageCategory: req.input.string('UsageCategory') ?? '',
          callbackMethod: req.input.string('CallbackMethod'),
          friendlyName: req.input.string('FriendlyName'),
          recurring: req.input.string('Recurring'),
          triggerBy: req.input.string('TriggerBy'),
        });
        return { status: 201, body: await shown(row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${BASE}.json`,
      summary: 'List usage triggers',
      paged: true,
      params: [
        { name: 'Recurring', type: 'enum', values: RECURRING },
        { name: 'TriggerBy', type: 'enum', values: TRIGGER_BY },
        { name: 'UsageCategory', type: 'string', max: 80 },
        ...PAGE_PARAMS,
      ],
      async handler(req) {
        const filter = {
          recurring: req.input.string('Recurring'),
          triggerBy: req.input.string('TriggerBy'),
          category: req.input.string('UsageCategory'),
        };
        const rows = await triggers.list(req.account.sid, filter, {
          size: req.page.pageSize,
          after: req.page.after,
        });
        const { items, next } = splitPage(req, rows, (last) => [last.date_created, last.sid]);
        return listPage2010(req, 'usage_triggers', await Promise.all(items.map(shown)), next, {
          Recurring: filter.recurring,
          TriggerBy: filter.triggerBy,
          UsageCategory: filter.category,
        });
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${BASE}/:Sid.json`,
      summary: 'Fetch a usage trigger',
      async handler(req) {
        return { status: 200, body: await shown(await triggers.get(req.account.sid, sid(req))) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${BASE}/:Sid.json`,
      summary: "Update a usage trigger's FriendlyName or callback",
      params: [
        { name: 'CallbackUrl', type: 'url' },
        { name: 'CallbackMethod', type: 'enum', values: METHODS },
        { name: 'FriendlyName', type: 'string', max: 64 },
      ],
      async handler(req) {
        const row = await triggers.update(req.account.sid, sid(req), {
          callbackUrl: req.input.string('CallbackUrl'),
          callbackMethod: req.input.string('CallbackMethod'),
          friendlyName: req.input.string('FriendlyName'),
        });
        return { status: 200, body: await shown(row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${BASE}/:Sid.json`,
      summary: 'Delete a usage trigger',
      async handler(req) {
        await triggers.remove(req.account.sid, sid(req));
        return { status: 204, body: undefined };
      },
    },
  ];
}
