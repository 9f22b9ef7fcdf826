import { fail, rfc2822 } from '../core/index.js';
import { PAGE_PARAMS, listPage2010, type RestRoute, splitPage } from '../core/rest.js';
import type { EventLog } from './event-log.js';
import type { EventRow } from './tables.js';
import type { EventTables } from './tables.js';
import type { Kysely } from '../store/index.js';

const KINDS = [
  'api-request',
  'call',
  'segment',
  'message',
  'webhook',
  'recording',
  'ledger',
  'presence',
] as const;

function eventJson(row: EventRow): Record<string, unknown> {
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    kind: row.kind,
    actor_sid: row.actor_sid,
    method: row.method,
    resource: row.resource,
    status: row.status,
    duration_ms: row.duration_ms,
    subject_sid: row.subject_sid,
    occurred_at: rfc2822(row.occurred_at),
    tags: JSON.parse(row.tags) as unknown,
    interaction_sid: row.interaction_sid,
    data: row.data ? (JSON.parse(row.data) as unknown) : null,
    uri: `/2010-04-01/Accounts/${row.account_sid}/Events/${row.sid}.json`,
  };
}

/** Switchboard extension: the account's interaction log, newest first. */
export function eventRoutes(db: Kysely<EventTables>, log: EventLog): RestRoute[] {
  return [
    {
      method: 'GET',
      domain: 'api',
      path: '/2010-04-01/Accounts/:AccountSid/Events.json',
      summary: 'List interaction events (Switchboard extension)',
      paged: true,
      params: [
        { name: 'Kind', type: 'enum', values: KINDS },
        { name: 'SubjectSid', type: 'string', max: 34 },
        { name: 'Tag', type: 'string', max: 64 },
        { name: 'InteractionSid', type: 'string', max: 34 },
        ...PAGE_PARAMS,
      ],
      async handler(req) {
        // What was recorded before this request is readable by it.
        await log.flush();
        const kind = req.input.string('Kind') as EventRow['kind'] | undefined;
        const subject = req.input.string('SubjectSid');
        const tag = req.input.string('Tag');
        const interaction = req.input.string('InteractionSid');
        let q = db.selectFrom('events').selectAll().where('account_sid', '=', req.account.sid);
        if (kind) q = q.where('kind', '=', kind);
        if (subject) q = q.where('subject_sid', '=', subject);
        if (tag)
          q = q.where('sid', 'in', (eb) =>
            eb
              .selectFrom('event_tags')
              .select('event_sid')
              .where('account_sid', '=', req.account.sid)
              .where('tag', '=', tag),
          );
        if (interaction) q = q.where('interaction_sid', '=', interaction);
        if (req.page.after) {
          const [at, sid] = req.page.after;
          if (typeof at !== 'number' || typeof sid !== 'string') fail('invalidPageToken');
          q = q.where((eb) => eb(eb.refTuple('occurred_at', 'sid'), '<', eb.tuple(at, sid)));
        }
        const rows = await q
          .orderBy('occurred_at', 'desc')
          .orderBy('sid', 'desc')
          .limit(req.page.pageSize + 1)
          .execute();
        const { items, next } = splitPage(req, rows, (last) => [last.occurred_at, last.sid]);
        return listPage2010(req, 'events', items.map(eventJson), next, {
          Kind: kind,
          SubjectSid: subject,
          Tag: tag,
          InteractionSid: interaction,
        });
      },
    },
  ];
}
