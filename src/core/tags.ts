// Tags: short labels a client attaches to an interaction (a call, a message, an API request)
// so that tracking can select and measure what it did. Checked once, where they enter (the
// HTTP edge), against the limits documented in docs/tracking.md.
import { Errors, TwilioError } from './errors.js';
import type { ParamSpec } from './rest.js';

export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 64;
const TAG = /^[A-Za-z0-9._:-]+$/;

/** The request header carrying tags on any API request (comma-separated). */
export const TAGS_HEADER = 'switchboard-tags';

/** The repeatable `Tags` parameter of the routes that create (or update) a tagged resource. */
export const TAGS_PARAM: ParamSpec = {
  name: 'Tags',
  type: 'list',
  description: `Switchboard extension: up to ${MAX_TAGS} tags of [A-Za-z0-9._:-], each at most ${MAX_TAG_LENGTH} characters`,
};

/** The tags given, each checked, without repeats; throws a 400 naming the first bad one. */
export function checkTags(given: readonly string[]): string[] {
  const tags = [...new Set(given)];
  for (const tag of tags) {
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || !TAG.test(tag)) {
      throw new TwilioError(
        Errors.invalidTag,
        `${JSON.stringify(tag.slice(0, 80))}: a tag is 1 to ${MAX_TAG_LENGTH} characters of A-Z a-z 0-9 . _ : -`,
      );
    }
  }
  if (tags.length > MAX_TAGS)
    throw new TwilioError(Errors.tooManyTags, `${tags.length} given, at most ${MAX_TAGS}`);
  return tags;
}

/** The tags of a `Switchboard-Tags` header (one or several, each comma-separated). */
export function headerTags(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => v.split(',')).map((t) => t.trim());
}
