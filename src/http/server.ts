import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { Throttle } from '../throttle/index.js';
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
import { Observers, pathOf, type RequestRecorder } from './observe.js';
import { throttleHookFor } from './throttle-hook.js';
import { mountPath, openApiDocument } from './openapi.js';

/** What the edge needs from the accounts capability. */
export interface Authenticator {
  /** The principal an `Authorization` header proves (at once when it was checked recently). */
  authenticate(authorization: string): Principal | undefined | Promise<Principal | undefined>;
  resolve(principal: Principal, accountSid: string): Promise<AccountContext>;
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
  /** Error-aware throttling (src/throttle), when enabled: a hook on every route not exempt. */
  readonly throttle?: Throttle | undefined;
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
const JSON_TYPE = 'application/json; charset=utf-8';
/** Text of frozen bodies: a representation a capability keeps (an account) is serialised once. */
const serialised = new WeakMap<object, string>();

export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { auth, logger } = options;
  const observers = new Observers(options.metrics, options.events);
  // Requests no route took: observed as `unmatched` (also those Fastify refuses before routing).
  const unmatched = observers.forRoute('unmatched');
  const observeUnmatched = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.raw.once('finish', () => unmatched.observe(request, reply));
  };
  const onError = errorHandler(logger);
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per request would cost more than the request; metrics and the event log count them.
    logController: new LogController({ disableRequestLogging: true }),
    // Nothing logs through request.log (errors are logged by the error handler with the request's
    // method and URL): no child logger per request.
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    // Twilio SIDs and tokens are long; allow long URLs but not absurd ones.
    routerOptions: { maxParamLength: 200 },
    // Errors Fastify raises before routing (undecodable URLs) also become Twilio JSON.
    frameworkErrors: (error, request, reply) => {
      observeUnmatched(request, reply);
      onError(error, request, reply);
    },
  });
  registerBodyParsers(app);
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

  const throttle = options.throttle;
  if (throttle) {
    app.addHook('preClose', (done) => {
      throttle.close();
      done();
    });
  }
  /** The hooks of one route template: its throttle (unless exempt) and its observer. */
  const hooksFor = (url: string) => {
    const throttled = throttle && throttleHookFor(throttle, url);
    return {
      ...(throttled ? { onRequest: throttled } : {}),
      onResponse: observers.forRoute(url).onResponse,
    };
  };

  app.setErrorHandler(onError);
  const unmatchedThrottle = throttle && throttleHookFor(throttle, undefined);
  app.setNotFoundHandler(
    {
      preHandler: (request, reply, done) => {
        observeUnmatched(request, reply);
        if (unmatchedThrottle) unmatchedThrottle.call(app, request, reply, done);
        else done();
      },
    },
    (request, reply) => {
      const err = new TwilioError(Errors.notFound, `${request.method} ${pathOf(request.url)}`);
      void reply.code(404).send(err.toJSON());
    },
  );

  app.get('/healthz', hooksFor('/healthz'), async (_request, reply) => {
    const details = await options.health();
    const ok = Object.values(details).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', ...details });
  });
  app.get('/metrics', hooksFor('/metrics'), async (_request, reply) => {
    return reply
      .header('content-type', options.metrics.contentType)
      .send(await options.metrics.metrics());
  });
  const document = openApiDocument(options.routes, options.version);
  app.get('/openapi.json', hooksFor('/openapi.json'), async () => document);

  for (const route of options.routes) mountRoute(app, route, auth, hooksFor);
  return app;
}

function prefixesOf(route: RestRoute): string[] {
  return route.domain === 'api' ? ['', '/api'] : [`/${route.domain}`];
}

function mountRoute(
  app: FastifyInstance,
  route: RestRoute,
  auth: Authenticator,
  hooksFor: (url: string) => Pick<RouteOptions, 'onRequest' | 'onResponse'>,
): void {
  const params = compileParams(route.params ?? []);
  const ignore = route.paged ? NO_IGNORED : PAGE_NAMES;
  const hasAccount = route.path.includes(':AccountSid');
  const requireActive = route.requireActive ?? route.method !== 'GET';

  for (const prefix of prefixesOf(route)) {
    const url = prefix + route.path;
    app.route({
      ...hooksFor(url),
      method: route.method,
      url,
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
