// What the edge records of every request it answered: Prometheus figures per (method, route
// template, status) and, for API routes, an interaction event. One observer per route, made
// when the route is mounted, so a request costs no label hashing and no route lookup.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

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
  }): void;
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

interface Figures {
  count: ReturnType<Counter<'method' | 'route' | 'status'>['labels']>;
  time: ReturnType<Histogram<'method' | 'route'>['labels']>;
}

/** Makes the observers of the routes of one server. */
export class Observers {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;

  constructor(
    metrics: Registry,
    private readonly events: RequestRecorder,
  ) {
    this.requests = new Counter({
      name: 'switchboard_http_requests_total',
      help: 'HTTP requests handled, by route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [metrics],
    });
    this.latency = new Histogram({
      name: 'switchboard_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [metrics],
    });
  }

  /** The observer of one route template (`unmatched` for requests no route took). */
  forRoute(route: string): RouteObserver {
    return new RouteObserver(this.requests, this.latency, this.events, route, isApiRoute(route));
  }
}

export class RouteObserver {
  /** Per method and status; a route sees few of each. */
  private readonly figures = new Map<string, Figures>();

  constructor(
    private readonly requests: Counter<'method' | 'route' | 'status'>,
    private readonly latency: Histogram<'method' | 'route'>,
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
    let f = this.figures.get(key);
    if (!f) {
      f = {
        count: this.requests.labels(method, this.route, String(status)),
        time: this.latency.labels(method, this.route),
      };
      this.figures.set(key, f);
    }
    const elapsed = reply.elapsedTime;
    f.count.inc();
    f.time.observe(elapsed / 1000);
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
    });
  }
}
