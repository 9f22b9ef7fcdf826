import { Errors, TwilioError, fail, rfc2822 } from '../../core/index.js';
import {
  PAGE_PARAMS,
  listPage2010,
  splitPage,
  type RestRequest,
  type RestRoute,
} from '../../core/rest.js';
import { NEWEST_FIRST, selectPage } from '../../store/index.js';
import type { HttpMethod } from '../twiml/index.js';
import { DEFAULT_MAX_SIZE, MAX_MAX_SIZE, MAX_NAME_LENGTH, type QueueStore } from './queue-store.js';
import type { MemberRow, QueueRow } from './tables.js';

const QUEUES = '/2010-04-01/Accounts/:AccountSid/Queues';
const MEMBERS = `${QUEUES}/:QueueSid/Members`;
const METHODS = ['GET', 'POST'] as const;

export interface QueueRouteDeps {
  /** Sends a live call to new TwiML (the node holding it runs it): Members update. */
  redirectCall(callSid: string, url: string, method: HttpMethod): Promise<void>;
}

async function queueJson(store: QueueStore, row: QueueRow): Promise<Record<string, unknown>> {
  const stats = await store.stats(row.sid, Date.now());
  return {
    sid: row.sid,
    account_sid: row.account_sid,
    friendly_name: row.friendly_name,
    current_size: stats.size,
    max_size: row.max_size,
    average_wait_time: stats.averageWaitS,
    date_created: rfc2822(row.date_created),
    date_updated: rfc2822(row.date_updated),
    uri: `/2010-04-01/Accounts/${row.account_sid}/Queues/${row.sid}.json`,
  };
}

function memberJson(row: MemberRow, position: number, now: number): Record<string, unknown> {
  return {
    call_sid: row.call_sid,
    queue_sid: row.queue_sid,
    date_enqueued: rfc2822(row.date_enqueued),
    position,
    wait_time: Math.max(0, Math.floor((now - row.date_enqueued) / 1000)),
    uri: `/2010-04-01/Accounts/${row.account_sid}/Queues/${row.queue_sid}/Members/${row.call_sid}.json`,
  };
}

function friendlyName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = value.trim();
  if (!name || name.length > MAX_NAME_LENGTH)
    throw new TwilioError(
      Errors.invalidParameter,
      `FriendlyName must be 1 to ${MAX_NAME_LENGTH} characters`,
    );
  return name;
}

export function queueRoutes(store: QueueStore, deps: QueueRouteDeps): RestRoute[] {
  const getQueue = async (req: RestRequest, param = 'Sid'): Promise<QueueRow> => {
    const row = await store.get(req.account.sid, req.params[param] ?? '');
    if (!row) fail('notFound', `Queue ${String(req.params[param]).slice(0, 40)}`);
    return row;
  };
  // `Front` names the member at the head of the queue (Twilio's alias).
  const getMember = async (req: RestRequest): Promise<{ queue: QueueRow; member: MemberRow }> => {
    const queue = await getQueue(req, 'QueueSid');
    const callSid = req.params.CallSid ?? '';
    const member =
      callSid === 'Front' ? await store.front(queue.sid) : await store.member(queue.sid, callSid);
    if (!member) fail('notFound', `Member ${callSid.slice(0, 40)} of queue ${queue.sid}`);
    return { queue, member };
  };
  const sizeParam = {
    name: 'MaxSize',
    type: 'int',
    min: 1,
    max: MAX_MAX_SIZE,
    description: `Default ${DEFAULT_MAX_SIZE}, at most ${MAX_MAX_SIZE}`,
  } as const;
  return [
    {
      method: 'POST',
      domain: 'api',
      path: `${QUEUES}.json`,
      summary: 'Create a call queue',
      params: [{ name: 'FriendlyName', type: 'string', required: true, max: 256 }, sizeParam],
      async handler(req) {
        const name = friendlyName(req.input.string('FriendlyName')) ?? '';
        const row = await store.create(
          req.account.sid,
          name,
          req.input.int('MaxSize') ?? DEFAULT_MAX_SIZE,
        );
        req.tag('voice:queue-create');
        return { status: 201, body: await queueJson(store, row) };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${QUEUES}.json`,
      summary: 'List call queues, newest first',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const q = store.db
          .selectFrom('call_queues')
          .selectAll()
          .where('account_sid', '=', req.account.sid);
        const page = await selectPage(q, req.page, NEWEST_FIRST);
        const body = await Promise.all(page.items.map((r) => queueJson(store, r)));
        return listPage2010(req, 'queues', body, page.next);
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${QUEUES}/:Sid.json`,
      summary: 'Fetch a call queue',
      async handler(req) {
        return { status: 200, body: await queueJson(store, await getQueue(req)) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${QUEUES}/:Sid.json`,
      summary: "Update a call queue's FriendlyName or MaxSize",
      params: [{ name: 'FriendlyName', type: 'string', max: 256 }, sizeParam],
      async handler(req) {
        const row = await store.update(await getQueue(req), {
          friendlyName: friendlyName(req.input.string('FriendlyName')),
          maxSize: req.input.int('MaxSize'),
        });
        return { status: 200, body: await queueJson(store, row) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: `${QUEUES}/:Sid.json`,
      summary: 'Delete an empty call queue',
      async handler(req) {
        const row = await getQueue(req);
        if (!(await store.deleteIfEmpty(row)))
          throw new TwilioError(
            Errors.queueNotEmpty,
            `queue ${row.sid} still has callers waiting; dequeue them first`,
          );
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${MEMBERS}.json`,
      summary: 'List the calls waiting in a queue, front first',
      paged: true,
      params: PAGE_PARAMS,
      async handler(req) {
        const queue = await getQueue(req, 'QueueSid');
        const afterSeq = req.page.after ? Number(req.page.after[0]) : 0;
        if (!Number.isFinite(afterSeq)) throw new TwilioError(Errors.invalidPageToken);
        const rows = await store.members(queue.sid, afterSeq, req.page.pageSize + 1);
        const { items, next } = splitPage(req, rows, (last) => [last.seq]);
        const now = Date.now();
        const first = items[0] ? await store.position(items[0]) : 1;
        return listPage2010(
          req,
          'queue_members',
          items.map((m, i) => memberJson(m, first + i, now)),
          next,
        );
      },
    },
    {
      method: 'GET',
      domain: 'api',
      path: `${MEMBERS}/:CallSid.json`,
      summary: 'Fetch a queue member by CallSid, or the front member with Front',
      async handler(req) {
        const { member } = await getMember(req);
        return {
          status: 200,
          body: memberJson(member, await store.position(member), Date.now()),
        };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: `${MEMBERS}/:CallSid.json`,
      summary: 'Dequeue a member (or Front) and redirect its call to Url',
      params: [
        { name: 'Url', type: 'url', required: true },
        { name: 'Method', type: 'enum', values: METHODS },
      ],
      async handler(req) {
        const { queue, member } = await getMember(req);
        const position = await store.position(member);
        // Deleting the row is the claim: a concurrent <Dial><Queue> or update gets the next one.
        const taken = await store.remove(member.call_sid, queue.sid);
        if (!taken) fail('notFound', `Member ${member.call_sid} left queue ${queue.sid}`);
        await deps.redirectCall(
          taken.call_sid,
          req.input.string('Url') ?? '',
          (req.input.string('Method') ?? 'POST') as HttpMethod,
        );
        req.tag('voice:queue-dequeue');
        return { status: 200, body: memberJson(taken, position, Date.now()) };
      },
    },
  ];
}
