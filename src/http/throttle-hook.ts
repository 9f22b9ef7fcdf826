// The throttle (src/throttle) at the HTTP edge: each route that is not exempt gets an
// onRequest hook that asks the throttle for a decision (it waits out any delay on a timer),
// and the response's close reports the status, so slots are freed even when the client leaves
// early. The hook runs after the edge has checked the request's credentials. The same close
// reports the answered request to the route's observer (one listener instead of a hook more).
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Throttle, Ticket } from '../throttle/index.js';
import type { RouteObserver } from './observe.js';

/** Extension header: the delay, in ms, the throttle applied before serving the request. */
export const THROTTLE_DELAY_HEADER = 'X-Switchboard-Throttle-Delay';

type Done = (err?: Error) => void;

/**
 * The hook for one route template (undefined: requests no route took), or undefined when the
 * route is exempt. A request it took is reported to `observer` (if any) once answered.
 */
export function throttleHookFor(
  throttle: Throttle,
  route: string | undefined,
  observer?: RouteObserver,
): onRequestHookHandler | undefined {
  if (throttle.exemptRoute(route)) return undefined;
  const resource = throttle.resourceFor(route);
  return function throttled(this: unknown, request, reply, done) {
    // The response closes when sent, or when the client leaves (which ends a delay early).
    const watch = new Watch(throttle, request, reply, done, observer);
    reply.raw.on('close', watch.closed);
    const decided = throttle.begin(
      {
        method: request.method,
        resource: resource(request.method, request.params as Record<string, string | undefined>),
        credential: request.principal,
        remoteAddress: request.raw.socket.remoteAddress,
        forwardedFor: request.headers['x-forwarded-for'],
      },
      watch,
    );
    if (decided instanceof Promise) decided.then(watch.admit, done);
    else watch.admit(decided);
  };
}

/** One request's ticket, and what happens when its response closes. */
class Watch {
  private ticket: Ticket | undefined;
  private gone = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly throttle: Throttle,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly done: Done,
    private readonly observer: RouteObserver | undefined,
  ) {}

  readonly closed = (): void => {
    this.gone = true;
    this.wake?.();
    const ticket = this.ticket;
    this.ticket = undefined;
    const answered = this.reply.raw.writableFinished;
    if (ticket) void this.throttle.end(ticket, answered ? this.reply.statusCode : undefined);
    if (answered) this.observer?.observe(this.request, this.reply);
  };

  /** Called by a waiting request: wake() ends its delay when the client leaves. */
  onGone(wake: () => void): void {
    if (this.gone) wake();
    else this.wake = wake;
  }

  /** Holds the ticket until the response closes, and lets the request on (or refuses it). */
  readonly admit = (ticket: Ticket | undefined): void => {
    if (!ticket) return this.done();
    if (this.gone) {
      void this.throttle.end(ticket, undefined);
      return this.done();
    }
    this.ticket = ticket;
    const request = this.request;
    if (ticket.delayMs > 0) {
      void this.reply.header(THROTTLE_DELAY_HEADER, String(ticket.delayMs));
      (request.tags ??= []).push('throttle:delayed', `throttle:delay-ms:${ticket.delayMs}`);
    }
    if (ticket.refusal) {
      (request.tags ??= []).push('throttle:refused');
      return this.done(ticket.refusal);
    }
    this.done();
  };
}
