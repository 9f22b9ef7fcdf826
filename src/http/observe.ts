// What the edge records of every request it answered: Prometheus figures per (method, route
// template, status) and, for API routes, an interaction event. One observer per route, made
// when the route is mounted, so a request costs no label hashing and no route lookup.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { RequestFigures, type RequestSeries } from './figures.js';

/** What the edge writes for every request it handled. */
export interface RequestRecorder {
  record(event: {
    accountSid: string | null;
    kind: 'api-request';
    actorSid: string | null;
    method: string;
    resource: string;
    status: number;
    durationMs: number;
    tags: readonly string[];
    interactionSid: string | null;
  }): void;
  /** Tags of a resource a request created (a call, a message, an application). */
  bind(sid: string, binding: { accountSid: string | null; tags: readonly string[] }): void;
  /** Makes what was recorded and bound durable. */
  flush(): Promise<void>;
}

const NO_TAGS: readonly string[] = [];

export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Routes whose requests are interaction events (the API's, not /metrics or /healthz). */
function isApiRoute(route: string): boolean {
  return (
    route.startsWith('/2010-04-01') ||
    route.startsWith('/api') ||
    /^\/[a-z]+\/v\d/.test(route) ||
    route === 'unmatched'
  );
}

/** Makes the observers of the routes of one server. */
export class Observers {
  private readonly figures: RequestFigures;

  constructor(
    metrics: Registry,
    private readonly events: RequestRecorder,
  ) {
    this.figures = new RequestFigures(metrics);
  }

  /** The observer of one route template (`unmatched` for requests no route took). */
  forRoute(route: string): RouteObserver {
    return new RouteObserver(this.figures, this.events, route, isApiRoute(route));
  }
}

export class RouteObserver {
  /** Per method and status; a route sees few of each. */
  private readonly series = new Map<string, RequestSeries>();

  constructor(
    private readonly figures: RequestFigures,
    private readonly events: RequestRecorder,
    private readonly route: string,
    private readonly logged: boolean,
  ) {}

  /** An onResponse hook. */
  readonly onResponse = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    this.observe(request, reply);
    done();
  };

  observe(request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const method = request.method;
    const key = method + status;
    let series = this.series.get(key);
    if (!series) {
      series = this.figures.series(method, this.route, status);
      this.series.set(key, series);
    }
    const elapsed = reply.elapsedTime;
    series.add(elapsed / 1000);
    if (!this.logged) return;
    this.events.record({
      accountSid: request.account?.sid ?? request.principal?.accountSid ?? null,
      kind: 'api-request',
      actorSid: request.principal?.credentialSid ?? null,
      method,
      resource: pathOf(request.url),
      status,
      durationMs: elapsed,
      tags: request.tags ?? NO_TAGS,
      interactionSid: request.interactionSid ?? null,
    });
  }
}
