// The throttle (src/throttle) at the HTTP edge: onRequest asks it for a decision (it awaits any
// delay on a timer), and the response's close reports the status, so slots are freed even when
// the client leaves early. Registered through HttpServerOptions.plugins.
import type { FastifyInstance } from 'fastify';
import type { Throttle, Ticket } from '../throttle/index.js';

/** Extension header: the delay, in ms, the throttle applied before serving the request. */
export const THROTTLE_DELAY_HEADER = 'X-Switchboard-Throttle-Delay';

export function throttleHook(throttle: Throttle): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('preClose', (done) => {
      throttle.close();
      done();
    });
    app.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions.url;
      if (throttle.exemptRoute(route)) return;
      // The response closes when sent, or when the client leaves (which ends a delay early).
      let closed = false;
      let wake: (() => void) | undefined;
      const held: { ticket?: Ticket } = {};
      reply.raw.on('close', () => {
        closed = true;
        wake?.();
        if (held.ticket)
          void throttle.end(held.ticket, reply.raw.writableFinished ? reply.statusCode : undefined);
      });
      const decided = await throttle.begin(
        {
          method: request.method,
          route,
          params: request.params as Record<string, string | undefined>,
          authorization: request.headers.authorization,
          remoteAddress: request.raw.socket.remoteAddress,
          forwardedFor: request.headers['x-forwarded-for'],
        },
        (w) => {
          if (closed) w();
          else wake = w;
        },
      );
      if (!decided) return;
      if (closed) {
        void throttle.end(decided, undefined);
        return;
      }
      held.ticket = decided;
      if (decided.delayMs > 0) {
        void reply.header(THROTTLE_DELAY_HEADER, String(decided.delayMs));
        (request.tags ??= []).push('throttle:delayed', `throttle:delay-ms:${decided.delayMs}`);
      }
      if (decided.refusal) {
        (request.tags ??= []).push('throttle:refused');
        throw decided.refusal;
      }
    });
  };
}
