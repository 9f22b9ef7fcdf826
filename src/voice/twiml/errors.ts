/** A TwiML document that cannot run, with Twilio's error code (12100 parse, 12200 schema,
 * 13221 a verb, noun or attribute Switchboard refuses, 13520 a Say it cannot speak). */
export class TwimlError extends Error {
  constructor(
    readonly code: 12100 | 12200 | 13221 | 13520,
    message: string,
  ) {
    super(message);
    this.name = 'TwimlError';
  }
}
