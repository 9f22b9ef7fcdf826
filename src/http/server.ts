import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { Errors, TwilioError, fail, type Logger } from '../core/index.js';
import {
  validateInput,
  pageRequest,
  type AccountContext,
  type Principal,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import { registerBodyParsers, type RawParams } from './body.js';
import { errorHandler } from './errors.js';
import { mountPath, openApiDocument } from './openapi.js';

/** What the edge needs from the accounts capability. */
export interface Authenticator {
  authenticate(username: string, password: string): Promise<Principal | undefined>;
  resolve(principal: Principal, accountSid: string): Promise<AccountContext>;
}

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

export interface HttpServerOptions {
  readonly routes: readonly RestRoute[];
  readonly auth: Authenticator;
  readonly events: RequestRecorder;
  readonly metrics: Registry;
  readonly logger: Logger;
  readonly bodyLimit: number;
  readonly version: string;
  readonly health: () => Promise<Record<string, unknown>>;
  /** Extra Fastify hooks (e.g. throttling), registered before the routes. */
  readonly plugins?: readonly ((app: FastifyInstance) => void)[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads the JSON body unparsed (RestRoute.rawBody). */
    rawBody?: boolean;
  }
  interface FastifyRequest {
    /** Set once authenticated. */
    principal?: Principal;
    /** The JSON body as received, on routes that declare rawBody. */
    rawBody?: string;
    /** Target account, once resolved. */
    account?: AccountContext;
    /** Tags for this request's interaction event. */
    tags?: string[];
  }
}

const UNAUTHENTICATED = { 'WWW-Authenticate': 'Basic realm="Switchboard"' };
const PAGE_NAMES = new Set(['PageSize', 'Page', 'PageToken']);
const NO_IGNORED = new Set<string>();

function parseBasic(header: string | undefined): [string, string] | undefined {
  if (!header || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { auth, logger } = options;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per request would cost more than the request; metrics and the event log count them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    // Twilio SIDs and tokens are long; allow long URLs but not absurd ones.
    routerOptions: { maxParamLength: 200 },
    // Errors Fastify raises before routing (undecodable URLs) also become Twilio JSON.
    frameworkErrors: (error, request, reply) => errorHandler(logger)(error, request, reply),
  });
  registerBodyParsers(app);
  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler((request, reply) => {
    const err = new TwilioError(Errors.notFound, `${request.method} ${request.url.split('?')[0]}`);
    void reply.code(404).send(err.toJSON());
  });

  const requests = new Counter({
    name: 'switchboard_http_requests_total',
    help: 'HTTP requests handled, by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [options.metrics],
  });
  const latency = new Histogram({
    name: 'switchboard_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [options.metrics],
  });

  // Per (method, route, status): the metric children and whether the route is an API one.
  // prom-client hashes label objects on every call; a request finds its children here instead.
  interface RouteFigures {
    count: ReturnType<typeof requests.labels>;
    time: ReturnType<typeof latency.labels>;
    logged: boolean;
  }
  const figures = new Map<string, RouteFigures>();
  const figuresOf = (method: string, route: string, status: number): RouteFigures => {
    const key = `${method} ${status} ${route}`;
    let found = figures.get(key);
    if (!found) {
      found = {
        count: requests.labels(method, route, String(status)),
        time: latency.labels(method, route),
        logged:
          route.startsWith('/2010-04-01') ||
          route.startsWith('/api') ||
          /^\/[a-z]+\/v\d/.test(route) ||
          route === 'unmatched',
      };
      figures.set(key, found);
    }
    return found;
  };

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const f = figuresOf(request.method, route, reply.statusCode);
    f.count.inc();
    f.time.observe(reply.elapsedTime / 1000);
    if (f.logged) {
      options.events.record({
        accountSid: request.account?.sid ?? request.principal?.accountSid ?? null,
        kind: 'api-request',
        actorSid: request.principal?.credentialSid ?? null,
        method: request.method,
        resource: request.url.split('?')[0] ?? request.url,
        status: reply.statusCode,
        durationMs: reply.elapsedTime,
        tags: request.tags ?? [],
      });
    }
    done();
  });

  for (const plugin of options.plugins ?? []) plugin(app);

  app.get('/healthz', async (_request, reply) => {
    const details = await options.health();
    const ok = Object.values(details).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', ...details });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply
      .header('content-type', options.metrics.contentType)
      .send(await options.metrics.metrics());
  });
  const document = openApiDocument(options.routes, options.version);
  app.get('/openapi.json', async () => document);

  for (const route of options.routes) mountRoute(app, route, auth);
  return app;
}

function prefixesOf(route: RestRoute): string[] {
  return route.domain === 'api' ? ['', '/api'] : [`/${route.domain}`];
}

function mountRoute(app: FastifyInstance, route: RestRoute, auth: Authenticator): void {
  const specs = route.params ?? [];
  const ignore = route.paged ? NO_IGNORED : PAGE_NAMES;
  const hasAccount = route.path.includes(':AccountSid');
  const requireActive = route.requireActive ?? route.method !== 'GET';

  for (const prefix of prefixesOf(route)) {
    app.route({
      method: route.method,
      url: prefix + route.path,
      config: { rawBody: route.rawBody === true },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        let principal: Principal | undefined;
        if (route.auth !== 'none') {
          const credentials = parseBasic(request.headers.authorization);
          principal = credentials
            ? await auth.authenticate(credentials[0], credentials[1])
            : undefined;
          if (!principal) throw new TwilioError(Errors.authenticate, undefined, UNAUTHENTICATED);
          request.principal = principal;
        }
        const params = request.params as Record<string, string>;
        let account: AccountContext | undefined;
        if (hasAccount && principal) {
          account = await auth.resolve(principal, params.AccountSid ?? '');
          request.account = account;
          if (requireActive && account.status !== 'active') fail('accountNotActive', account.sid);
        }
        const raw = (route.method === 'POST' ? request.body : request.query) as
          RawParams | undefined;
        const input = validateInput(specs, raw ?? {}, ignore);
        const tags: string[] = (request.tags ??= []);
        const req: RestRequest = {
          principal: principal ?? { accountSid: '', credentialSid: '' },
          account:
            account ??
            (principal ? await auth.resolve(principal, principal.accountSid) : NO_ACCOUNT),
          params,
          input,
          page: pageRequest(input),
          baseUrl: `${request.protocol}://${request.host}${prefix}`,
          path: (request.url.split('?')[0] ?? '').slice(prefix.length),
          tag: (t) => tags.push(t),
          ...(route.rawBody ? { rawBody: request.rawBody ?? '', headers: request.headers } : {}),
        };
        const result = await route.handler(req);
        reply.code(result.status);
        if (result.headers) reply.headers(result.headers);
        if (result.contentType) reply.type(result.contentType);
        return result.status === 204 ? reply.send() : reply.send(result.body);
      },
    });
  }
  void mountPath;
}

const NO_ACCOUNT: AccountContext = {
  sid: '',
  parentSid: null,
  status: 'active',
  authToken: '',
  friendlyName: '',
};
