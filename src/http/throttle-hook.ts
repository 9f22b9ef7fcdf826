// The throttle (src/throttle) at the HTTP edge: onRequest asks it for a decision (it awaits any
// delay on a timer), and the response's close reports the status, so slots are freed even when
// the client leaves early. Registered through HttpServerOptions.plugins, after the edge has
// checked the request's credentials.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Throttle, Ticket } from '../throttle/index.js';

/** Extension header: the delay, in ms, the throttle applied before serving the request. */
export const THROTTLE_DELAY_HEADER = 'X-Switchboard-Throttle-Delay';

export function throttleHook(throttle: Throttle): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('preClose', (done) => {
      throttle.close();
      done();
    });
    app.addHook('onRequest', (request, reply, done) => {
      const route = request.routeOptions.url;
      if (throttle.exemptRoute(route)) return done();
      // The response closes when sent, or when the client leaves (which ends a delay early).
      const watch = new Watch(throttle, reply);
      reply.raw.on('close', watch.closed);
      const decided = throttle.begin(
        {
          method: request.method,
          route,
          params: request.params as Record<string, string | undefined>,
          credential: request.principal,
          remoteAddress: request.raw.socket.remoteAddress,
          forwardedFor: request.headers['x-forwarded-for'],
        },
        watch.onGone,
      );
      if (!(decided instanceof Promise)) return done(watch.admit(request, reply, decided));
      decided.then(
        (ticket) => done(watch.admit(request, reply, ticket)),
        (err: Error) => done(err),
      );
    });
  };
}

/** One request's ticket, and what happens when its response closes. */
class Watch {
  private ticket: Ticket | undefined;
  private gone = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly throttle: Throttle,
    private readonly reply: FastifyReply,
  ) {}

  readonly closed = (): void => {
    this.gone = true;
    this.wake?.();
    const ticket = this.ticket;
    this.ticket = undefined;
    if (ticket) {
      const raw = this.reply.raw;
      void this.throttle.end(ticket, raw.writableFinished ? this.reply.statusCode : undefined);
    }
  };

  readonly onGone = (wake: () => void): void => {
    if (this.gone) wake();
    else this.wake = wake;
  };

  /** Holds the ticket until the response closes; the error to answer with, if refused. */
  admit(
    request: FastifyRequest,
    reply: FastifyReply,
    ticket: Ticket | undefined,
  ): Error | undefined {
    if (!ticket) return undefined;
    if (this.gone) {
      void this.throttle.end(ticket, undefined);
      return undefined;
    }
    this.ticket = ticket;
    if (ticket.delayMs > 0) {
      void reply.header(THROTTLE_DELAY_HEADER, String(ticket.delayMs));
      (request.tags ??= []).push('throttle:delayed', `throttle:delay-ms:${ticket.delayMs}`);
    }
    if (ticket.refusal) {
      (request.tags ??= []).push('throttle:refused');
      return ticket.refusal;
    }
    return undefined;
  }
}
