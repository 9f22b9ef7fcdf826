import { rfc2822 } from '../core/index.js';
import { PAGE_PARAMS, listPage2010, type RestRoute } from '../core/rest.js';
import type { EventLog } from './event-log.js';
import type { EventRow } from './tables.js';

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
export function eventRoutes(log: EventLog): RestRoute[] {
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
        const kind = req.input.string('Kind') as EventRow['kind'] | undefined;
        const subject = req.input.string('SubjectSid');
        const tag = req.input.string('Tag');
        const interaction = req.input.string('InteractionSid');
        // What was recorded before this request is readable by it (the log flushes first).
        const { items, next } = await log.list(
          req.account.sid,
          { kind, subjectSid: subject, tag, interactionSid: interaction },
          req.page,
        );
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
