import { createHmac } from 'node:crypto';

/**
 * X-Twilio-Signature of a form POST: base64(HMAC-SHA1(authToken, url + each parameter's name
 * and value in sorted name order)), as the official SDK's validateRequest checks it. A GET
 * request signs the URL alone (its parameters are in the query string).
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Readonly<Record<string, string>> = {},
): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}
