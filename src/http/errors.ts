import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Errors, TwilioError, isTwilioError, type Logger } from '../core/index.js';

/** Fastify's own failures (body parsing, limits) in Twilio's terms. */
function fromFastify(err: FastifyError): TwilioError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TwilioError(Errors.bodyTooLarge);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TwilioError(Errors.unsupportedMediaType);
    case 'FST_ERR_BAD_URL':
      // A path that cannot be decoded names no resource.
      return new TwilioError(Errors.notFound, 'undecodable path');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TwilioError(Errors.malformedBody, err.message);
    default:
      if (err.statusCode === 400) return new TwilioError(Errors.malformedBody, err.message);
      if (err.statusCode === 413) return new TwilioError(Errors.bodyTooLarge);
      if (err.statusCode === 415) return new TwilioError(Errors.unsupportedMediaType);
      return undefined;
  }
}

/** The only place an error becomes an HTTP response: Twilio's error JSON, always. */
export function errorHandler(logger: Logger) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void => {
    let twilio: TwilioError | undefined = isTwilioError(err) ? err : undefined;
    if (!twilio && 'code' in err && typeof err.code === 'string')
      twilio = fromFastify(err as FastifyError);
    if (!twilio) {
      logger.error({ err, method: request.method, url: request.url }, 'internal error');
      twilio = new TwilioError(Errors.internal);
    }
    void reply.code(twilio.status).headers(twilio.headers).send(twilio.toJSON());
  };
}
