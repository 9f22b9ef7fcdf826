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
  compileParams,
  pageRequest,
  type AccountContext,
  type Input,
  type PageRequest,
  type Principal,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import { registerBodyParsers, type RawParams } from './body.js';
import { errorHandler } from './errors.js';
import { mountPath, openApiDocument } from './openapi.js';

/** What the edge needs from the accounts capability. */
export interface Authenticator {
  /** The principal an `Authorization` header proves (at once when it was checked recently). */
  authenticate(authorization: string): Principal | undefined | Promise<Principal | undefined>;
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
    /** Set once authenticated (by the first onRequest hook). */
    principal?: Principal;
    /** Why the credentials could not be checked (a suspended account), thrown by the route. */
    authError?: unknown;
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
const NO_TAGS: readonly string[] = [];
const JSON_TYPE = 'application/json; charset=utf-8';
/** Text of frozen bodies: a representation a capability keeps (an account) is serialised once. */
const serialised = new WeakMap<object, string>();

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
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
    const err = new TwilioError(Errors.notFound, `${request.method} ${pathOf(request.url)}`);
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
        resource: pathOf(request.url),
        status: reply.statusCode,
        durationMs: reply.elapsedTime,
        tags: request.tags ?? NO_TAGS,
      });
    }
    done();
  });

  // Credentials are checked once, before anything else (the throttle keys on who is asking).
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.authorization;
    if (!header) return done();
    let found: ReturnType<Authenticator['authenticate']>;
    try {
      found = auth.authenticate(header);
    } catch (err) {
      request.authError = err;
      return done();
    }
    if (!(found instanceof Promise)) {
      request.principal = found;
      return done();
    }
    found.then(
      (principal) => {
        request.principal = principal;
        done();
      },
      (err: unknown) => {
        request.authError = err;
        done();
      },
    );
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
  const params = compileParams(route.params ?? []);
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
          if (request.authError !== undefined) throw request.authError;
          principal = request.principal;
          if (!principal) throw new TwilioError(Errors.authenticate, undefined, UNAUTHENTICATED);
        }
        const names = request.params as Record<string, string>;
        let account: AccountContext | undefined;
        if (principal) {
          account = await auth.resolve(
            principal,
            hasAccount ? (names.AccountSid ?? '') : principal.accountSid,
          );
          if (hasAccount) {
            request.account = account;
            if (requireActive && account.status !== 'active') fail('accountNotActive', account.sid);
          }
        }
        const raw = (route.method === 'POST' ? request.body : request.query) as
          RawParams | undefined;
        const input = params.validate(raw ?? {}, ignore);
        const req: RestRequest = new EdgeRequest(
          request,
          prefix,
          principal ?? NO_PRINCIPAL,
          account ?? NO_ACCOUNT,
          input,
          route.rawBody === true,
        );
        const result = await route.handler(req);
        reply.code(result.status);
        if (result.headers) reply.headers(result.headers);
        if (result.status === 204) return reply.send();
        const body = result.body;
        if (result.contentType) reply.type(result.contentType);
        else if (body !== null && typeof body === 'object' && Object.isFrozen(body)) {
          let text = serialised.get(body);
          if (text === undefined) {
            text = JSON.stringify(body);
            serialised.set(body, text);
          }
          return reply.type(JSON_TYPE).send(text);
        }
        return reply.send(body);
      },
    });
  }
  void mountPath;
}

/** The request a capability's handler sees; what few handlers use is computed when asked. */
class EdgeRequest implements RestRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly rawBody?: string;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  private paging: PageRequest | undefined;

  constructor(
    private readonly request: FastifyRequest,
    private readonly prefix: string,
    readonly principal: Principal,
    readonly account: AccountContext,
    readonly input: Input,
    raw: boolean,
  ) {
    this.params = request.params as Record<string, string>;
    if (raw) {
      this.rawBody = request.rawBody ?? '';
      this.headers = request.headers;
    }
  }

  get page(): PageRequest {
    return (this.paging ??= pageRequest(this.input));
  }

  get baseUrl(): string {
    return `${this.request.protocol}://${this.request.host}${this.prefix}`;
  }

  get path(): string {
    return pathOf(this.request.url).slice(this.prefix.length);
  }

  tag(tag: string): void {
    (this.request.tags ??= []).push(tag);
  }
}

const NO_PRINCIPAL: Principal = { accountSid: '', credentialSid: '' };
const NO_ACCOUNT: AccountContext = {
  sid: '',
  parentSid: null,
  status: 'active',
  authToken: '',
  friendlyName: '',
};
