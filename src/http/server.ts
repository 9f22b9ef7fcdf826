import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
  type RouteOptions,
  type onRequestHookHandler,
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
  type RestReply,
  type RestRequest,
  type RestRoute,
} from '../core/rest.js';
import type { HttpListener } from './listener.js';
import { registerBodyParsers, type RawParams } from './body.js';
import { errorHandler } from './errors.js';
import { Observers, pathOf, type RequestRecorder } from './observe.js';
import { throttleHookFor } from './throttle-hook.js';
import { mountPath, openApiDocument } from './openapi.js';
import { requestTags, tieToCreated } from './tags.js';
import { allows, routePermission } from '../core/permissions.js';
import { TAGS_PARAM } from '../core/tags.js';

/** What the edge needs from the accounts capability. */
export interface Authenticator {
  /** The principal an `Authorization` header proves (at once when it was checked recently). */
  authenticate(authorization: string): Principal | undefined | Promise<Principal | undefined>;
  /** The account a principal acts on (at once when it was read recently). */
  resolve(principal: Principal, accountSid: string): AccountContext | Promise<AccountContext>;
  /** Whether the principal is the operator with its AuthToken (routes marked `operator`). */
  isOperator(principal: Principal): boolean;
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
  /** Serve on this listener, bound before the capabilities started (else: call listen()). */
  readonly listener?: HttpListener;
  /** Error-aware throttling (src/throttle), when enabled: a hook on every route not exempt. */
  readonly throttle?: Throttle | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads the JSON body unparsed (RestRoute.rawBody). */
    rawBody?: boolean;
  }
  interface FastifyRequest {
    /** Set once authenticated (by the arrival hook, before the throttle). */
    principal?: Principal;
    /** Why the credentials could not be checked (a suspended account), thrown by the route. */
    authError?: unknown;
    /** The JSON body as received, on routes that declare rawBody. */
    rawBody?: string;
    /** Target account, once resolved. */
    account?: AccountContext;
    /** Tags for this request's interaction event. */
    tags?: string[];
    /** The resource (call, message, …) this request created: its interaction. */
    interactionSid?: string;
  }
}

const UNAUTHENTICATED = { 'WWW-Authenticate': 'Basic realm="Switchboard"' };
const PAGE_NAMES = new Set(['PageSize', 'Page', 'PageToken']);
const NO_IGNORED = new Set<string>();
const JSON_TYPE = 'application/json; charset=utf-8';
/**
 * Bytes of frozen bodies: a representation a capability keeps (an account) is serialised and
 * encoded once, and its length is known without measuring the string again.
 */
const serialised = new WeakMap<object, Buffer>();

/** Fastify's server factory for a listener bound beforehand; `ready` gets the start of service. */
function factoryOn(
  listener: HttpListener,
  ready: (start: () => void) => void,
): FastifyServerFactory {
  return (handler, opts) => {
    const server = listener.server;
    const num = (key: string): number | undefined =>
      typeof opts[key] === 'number' ? opts[key] : undefined;
    server.keepAliveTimeout = num('keepAliveTimeout') ?? server.keepAliveTimeout;
    server.requestTimeout = num('requestTimeout') ?? server.requestTimeout;
    const connectionTimeout = num('connectionTimeout');
    if (connectionTimeout !== undefined) server.setTimeout(connectionTimeout);
    const perSocket = num('maxRequestsPerSocket');
    if (perSocket) server.maxRequestsPerSocket = perSocket;
    // Requests reach the routes once they are all mounted (onReady).
    ready(() => listener.serve(handler));
    return server;
  };
}

export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { auth, logger } = options;
  const observers = new Observers(options.metrics, options.events);
  // Requests no route took: observed as `unmatched` (also those Fastify refuses before routing).
  const unmatched = observers.forRoute('unmatched');
  const observeUnmatched = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.raw.once('finish', () => unmatched.observe(request, reply));
  };
  const onError = errorHandler(logger);
  const listener = options.listener;
  let serve: (() => void) | undefined;
  const app: FastifyInstance = Fastify({
    // The listener is bound already: Fastify serves on it, with the timeouts it would set.
    ...(listener ? { serverFactory: factoryOn(listener, (start) => (serve = start)) } : {}),
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
    // Requests Node's HTTP parser refuses (a URL or headers past its limit, broken framing) are
    // answered with Twilio error JSON too, and the connection closed.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return void socket.destroy();
      const overflow = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW';
      const e = new TwilioError(overflow ? Errors.headersTooLarge : Errors.malformedRequest);
      const body = JSON.stringify(e.toJSON());
      socket.end(
        `HTTP/1.1 ${e.status} ${overflow ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    },
    // Errors Fastify raises before routing (undecodable URLs) also become Twilio JSON.
    frameworkErrors: (error, request, reply) => {
      observeUnmatched(request, reply);
      onError(error, request, reply);
    },
  });
  if (serve) {
    const start = serve;
    app.addHook('onReady', (done) => {
      start();
      done();
    });
  }
  registerBodyParsers(app);
  const throttle = options.throttle;
  if (throttle) {
    app.addHook('preClose', (done) => {
      throttle.close();
      done();
    });
  }
  /**
   * The hooks of one route template: on arrival its credentials are checked and then its
   * throttle (unless exempt) decides, in one hook; on response its observer records it.
   */
  const hooksFor = (url: string | undefined) => {
    const observer = url === undefined ? undefined : observers.forRoute(url);
    const throttled = throttle && throttleHookFor(throttle, url, observer);
    // A throttled request is observed when its response closes (the throttle listens anyway).
    if (throttled || !observer) return { onRequest: arrival(auth, throttled) };
    return { onRequest: arrival(auth, undefined), onResponse: observer.onResponse };
  };

  app.setErrorHandler(onError);
  const unmatchedArrival = hooksFor(undefined).onRequest;
  app.setNotFoundHandler(
    {
      preHandler: (request, reply, done) => {
        observeUnmatched(request, reply);
        unmatchedArrival.call(app, request, reply, done);
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

  for (const route of options.routes) mountRoute(app, route, auth, options.events, hooksFor);
  return app;
}

/**
 * The first hook of every request: its credentials are checked once (the accounts capability
 * answers at once for a header it checked recently), then the throttle, if any, decides.
 */
function arrival(
  auth: Authenticator,
  throttled: onRequestHookHandler | undefined,
): onRequestHookHandler {
  return function arrive(this: FastifyInstance, request, reply, done) {
    const next = (): void => {
      if (throttled) throttled.call(this, request, reply, done);
      else done();
    };
    const header = request.headers.authorization;
    if (!header) return next();
    let found: ReturnType<Authenticator['authenticate']>;
    try {
      found = auth.authenticate(header);
    } catch (err) {
      request.authError = err;
      return next();
    }
    if (!(found instanceof Promise)) {
      request.principal = found;
      return next();
    }
    found.then(
      (principal) => {
        request.principal = principal;
        next();
      },
      (err: unknown) => {
        request.authError = err;
        next();
      },
    );
  };
}

function prefixesOf(route: RestRoute): string[] {
  return route.domain === 'api' ? ['', '/api'] : [`/${route.domain}`];
}

function mountRoute(
  app: FastifyInstance,
  route: RestRoute,
  auth: Authenticator,
  events: RequestRecorder,
  hooksFor: (url: string) => Pick<RouteOptions, 'onRequest' | 'onResponse'>,
): void {
  const params = compileParams(route.params ?? []);
  const ignore = route.paged ? NO_IGNORED : PAGE_NAMES;
  const hasAccount = route.path.includes(':AccountSid');
  // Routes creating a tagged resource declare the one TAGS_PARAM (a tracker's Tags are not its
  // request's).
  const tagged = (route.params ?? []).includes(TAGS_PARAM);
  const requireActive = route.requireActive ?? route.method !== 'GET';
  const raw = route.rawBody === true;
  const permission = routePermission(route);

  for (const prefix of prefixesOf(route)) {
    const url = prefix + route.path;
    const serve = (
      request: FastifyRequest,
      reply: FastifyReply,
      principal: Principal,
      account: AccountContext,
    ): Promise<void> | undefined => {
      if (hasAccount && account !== NO_ACCOUNT) {
        request.account = account;
        if (requireActive && account.status !== 'active') fail('accountNotActive', account.sid);
      }
      const given = (route.method === 'POST' ? request.body : request.query) as
        RawParams | undefined;
      const input = params.validate(given ?? {}, ignore);
      const tags = requestTags(request, tagged ? input : undefined);
      if (tags.length) (request.tags ??= []).push(...tags);
      const result = route.handler(
        new EdgeRequest(request, prefix, principal, account, input, raw),
      );
      if (tagged) {
        // The request is part of what it created; tags given are that interaction's.
        const created = result instanceof Promise ? result : Promise.resolve(result);
        return created
          .then((r) => tieToCreated(events, request, r, tags).then(() => r))
          .then((r) => answer(reply, r));
      }
      // Fastify sends what a handler returns: undefined (or a promise of it) once sent here.
      if (result instanceof Promise) return result.then((r) => answer(reply, r));
      answer(reply, result);
      return undefined;
    };

    app.route({
      ...hooksFor(url),
      method: route.method,
      url,
      config: { rawBody: route.rawBody === true },
      // Not async: a request whose account and answer are at hand (cached) is answered in
      // the same turn, without a promise per step; any step may still answer later.
      handler: (request: FastifyRequest, reply: FastifyReply) => {
        let principal: Principal | undefined;
        if (route.auth !== 'none') {
          if (request.authError !== undefined) throw request.authError;
          principal = request.principal;
          if (!principal) throw new TwilioError(Errors.authenticate, undefined, UNAUTHENTICATED);
          if (route.operator && !auth.isOperator(principal)) {
            fail('forbidden', 'this resource is administered by the platform operator');
          }
          if (principal.allow) {
            // A restricted key: this route's permission must be in its policy.
            const needed = permission?.of(request.params as Record<string, string>);
            if (needed === undefined || !allows(principal.allow, needed)) {
              fail('keyNotPermitted', needed ?? 'this resource takes the AuthToken');
            }
          }
        }
        if (!principal) return serve(request, reply, NO_PRINCIPAL, NO_ACCOUNT);
        const names = request.params as Record<string, string>;
        const who = principal;
        const account = auth.resolve(who, hasAccount ? (names.AccountSid ?? '') : who.accountSid);
        return account instanceof Promise
          ? account.then((a) => serve(request, reply, who, a))
          : serve(request, reply, who, account);
      },
    });
  }
  void mountPath;
}

function answer(reply: FastifyReply, result: RestReply): void {
  reply.code(result.status);
  if (result.headers) reply.headers(result.headers);
  if (result.status === 204) {
    reply.send();
    return;
  }
  const body = result.body;
  if (result.contentType) reply.type(result.contentType);
  else if (body !== null && typeof body === 'object' && Object.isFrozen(body)) {
    let bytes = serialised.get(body);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(body));
      serialised.set(body, bytes);
    }
    reply.type(JSON_TYPE).send(bytes);
    return;
  }
  reply.send(body);
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
