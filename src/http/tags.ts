// Tags at the edge: a `Switchboard-Tags` header on any API request and the `Tags` parameter of
// the routes that create a tagged resource are checked here, once; the resource a tagged
// create made (its `sid`, or a participant's `call_sid`) carries them from then on.
import type { FastifyRequest } from 'fastify';
import type { Input, RestReply } from '../core/rest.js';
import { TAGS_HEADER, checkTags, headerTags } from '../core/tags.js';
import type { RequestRecorder } from './observe.js';

const NONE: string[] = [];

/** The request's tags (header and `Tags`), checked; throws a 400 for a bad one. */
export function requestTags(request: FastifyRequest, input: Input | undefined): string[] {
  const header = request.headers[TAGS_HEADER];
  const param = input?.list('Tags');
  if (header === undefined && param === undefined) return NONE;
  return checkTags([...headerTags(header), ...(param ?? NONE)]);
}

function createdSid(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { sid?: unknown; call_sid?: unknown };
  if (typeof b.sid === 'string') return b.sid;
  return typeof b.call_sid === 'string' ? b.call_sid : undefined;
}

/**
 * Ties the request to the resource it created or updated and binds the tags to it; with tags,
 * waits until the binding is durable so that any node logging the resource's events finds it.
 */
export async function tieToCreated(
  events: RequestRecorder,
  request: FastifyRequest,
  reply: RestReply,
  tags: readonly string[],
): Promise<void> {
  if (reply.status >= 300) return;
  const sid = createdSid(reply.body);
  if (!sid) return;
  request.interactionSid = sid;
  if (!tags.length) return;
  events.bind(sid, { accountSid: request.account?.sid ?? null, tags });
  await events.flush();
}
