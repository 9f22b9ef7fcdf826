// The item routes of an account-owned resource (Applications, IncomingPhoneNumbers): fetch,
// update and delete `…/{Sid}.json`, with Twilio's statuses (200, 200, 204).
import type { ParamSpec, RestRequest, RestRoute } from '../../core/rest.js';

export interface ItemRoutes<Row> {
  /** `/2010-04-01/Accounts/:AccountSid/<Resource>/:Sid.json` */
  readonly path: string;
  /** The resource in the route summaries: `application`, `number`. */
  readonly noun: string;
  /** What an update may change. */
  readonly params: readonly ParamSpec[];
  get(req: RestRequest): Promise<Row>;
  update(req: RestRequest): Promise<Row>;
  remove(req: RestRequest): Promise<void>;
  json(row: Row): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export function itemRoutes<Row>(o: ItemRoutes<Row>): RestRoute[] {
  return [
    {
      method: 'GET',
      domain: 'api',
      path: o.path,
      summary: `Fetch ${o.noun}`,
      async handler(req) {
        return { status: 200, body: await o.json(await o.get(req)) };
      },
    },
    {
      method: 'POST',
      domain: 'api',
      path: o.path,
      summary: `Update ${o.noun}`,
      params: o.params,
      async handler(req) {
        return { status: 200, body: await o.json(await o.update(req)) };
      },
    },
    {
      method: 'DELETE',
      domain: 'api',
      path: o.path,
      summary: `Delete ${o.noun}`,
      async handler(req) {
        await o.remove(req);
        return { status: 204, body: undefined };
      },
    },
  ];
}
