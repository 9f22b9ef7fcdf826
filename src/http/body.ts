import type { FastifyInstance } from 'fastify';
import { Errors, TwilioError } from '../core/index.js';

export type RawParams = Record<string, string | string[]>;

const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;

/** Parses a form-encoded body; repeated keys become arrays (Twilio list parameters). */
export function parseForm(text: string): RawParams {
  if (BAD_ESCAPE.test(text))
    throw new TwilioError(Errors.malformedBody, 'invalid percent-encoding');
  const out: RawParams = Object.create(null) as RawParams;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new TwilioError(Errors.malformedBody, 'invalid UTF-8 in form data');
    }
    if (key === '') throw new TwilioError(Errors.malformedBody, 'empty parameter name');
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

/** JSON bodies are accepted too: an object of strings, numbers, booleans or arrays of them. */
function fromJson(text: string): RawParams {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TwilioError(Errors.malformedBody, 'invalid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TwilioError(Errors.malformedBody, 'a JSON body must be an object');
  }
  const out: RawParams = Object.create(null) as RawParams;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) out[k] = v.map((x) => scalar(k, x));
    else out[k] = scalar(k, v);
  }
  return out;
}

function scalar(key: string, v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TwilioError(Errors.malformedBody, `${key} must be a string, number or boolean`);
}

export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    // Routes that verify a signature over the exact bytes get them unparsed.
    if (req.routeOptions.config.rawBody) {
      req.rawBody = body as string;
      done(null, {});
      return;
    }
    try {
      done(null, (body as string).trim() === '' ? {} : fromJson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
