// The REST contract shared by every capability: a capability describes its routes as plain
// descriptors (no HTTP framework types), and the HTTP edge mounts, authenticates, validates
// and serialises them. This keeps Twilio's conventions (parameters, paging, errors) in one
// place and lets the OpenAPI document be generated from the same descriptors.
import { Errors, TwilioError } from './errors.js';
import type { SidPrefix } from './sid.js';
import { isSid } from './sid.js';

/** Twilio's API hosts; each is mounted under `/<domain>` (and `api` also at the root). */
export type Domain =
  | 'api'
  | 'messaging'
  | 'voice'
  | 'intelligence'
  | 'events'
  | 'supersim'
  | 'iam'
  | 'switchboard'
  | 'accounts'
  | 'presence'
  | 'tracking'
  | 'coverage';

export type ParamType =
  'string' | 'int' | 'number' | 'bool' | 'enum' | 'sid' | 'url' | 'date' | 'list';

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly required?: boolean;
  readonly values?: readonly string[];
  readonly prefix?: SidPrefix;
  readonly max?: number;
  readonly min?: number;
  readonly description?: string;
}

export type AccountStatus = 'active' | 'suspended' | 'closed';

/** The account a request acts on, resolved and authorised by the edge. */
export interface AccountContext {
  readonly sid: string;
  readonly parentSid: string | null;
  readonly status: AccountStatus;
  readonly authToken: string;
  readonly friendlyName: string;
}

/** Who made the request: the authenticated credential and the account it belongs to. */
export interface Principal {
  readonly accountSid: string;
  /** AccountSid for AuthToken auth, KeySid for API-key auth. */
  readonly credentialSid: string;
  /**
   * A restricted API key's policy (`allow` permissions, src/core/permissions.ts); absent for
   * AuthTokens and standard keys, which reach every route of their account.
   */
  readonly allow?: ReadonlySet<string>;
}

/** Validated request input: typed accessors over the parameters a route declared. */
export class Input {
  constructor(private readonly values: ReadonlyMap<string, string | number | boolean | string[]>) {}
  has(name: string): boolean {
    return this.values.has(name);
  }
  string(name: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : String(v);
  }
  int(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : undefined;
  }
  number(name: string): number | undefined {
    return this.int(name);
  }
  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }
  list(name: string): string[] | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v : [String(v)];
  }
  /** Epoch milliseconds of a date parameter. */
  date(name: string): number | undefined {
    return this.int(name);
  }
  names(): string[] {
    return [...this.values.keys()];
  }
}

export interface RestRequest {
  readonly principal: Principal;
  /** Present on routes under /Accounts/{AccountSid}. */
  readonly account: AccountContext;
  readonly params: Readonly<Record<string, string>>;
  readonly input: Input;
  readonly page: PageRequest;
  /** Absolute base URL of the domain the request came in on, e.g. http://host:3000/messaging */
  readonly baseUrl: string;
  /** Path of the request without query string, e.g. /2010-04-01/Accounts/AC…/Keys.json */
  readonly path: string;
  /** Adds a tag to this request's interaction event. */
  tag(tag: string): void;
  /** The body as received, on routes declaring `rawBody`. */
  readonly rawBody?: string;
  /** Request headers (lower-case names), on routes declaring `rawBody`. */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RestReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Defaults to application/json; set for binary bodies (recordings). */
  readonly contentType?: string;
}

export interface RestRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly domain: Domain;
  /** Path with :Params, as Twilio spells it (e.g. /2010-04-01/Accounts/:AccountSid/Keys.json). */
  readonly path: string;
  readonly summary: string;
  /** Parameters accepted in the query (GET/DELETE) or form body (POST); others are refused. */
  readonly params?: readonly ParamSpec[];
  /** Paged list routes accept PageSize/Page/PageToken. */
  readonly paged?: boolean;
  /** 'none' for public routes; default requires authentication. */
  readonly auth?: 'none';
  /**
   * Platform-wide administration (providers, nodes, routing): the operator's AuthToken only;
   * any other credential gets 403. Routes without it act on the caller's own account (or one
   * of its subaccounts). /openapi.json says which as `x-switchboard-access`.
   */
  readonly operator?: true;
  /**
   * The handler gets the JSON body as sent (`rawBody`) and the request headers instead of
   * parsed parameters: for peers that sign the exact bytes (HTTP carrier callbacks).
   */
  readonly rawBody?: true;
  /** Refuse the call when the target account is suspended (default true for writes). */
  readonly requireActive?: boolean;
  /** A reply, or a promise of one (a handler that has what it needs answers at once). */
  handler(req: RestRequest): RestReply | Promise<RestReply>;
}

// ---------------------------------------------------------------- validation

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function one(name: string, spec: ParamSpec, raw: string): string | number | boolean {
  const bad = (why: string): never => {
    throw new TwilioError(Errors.invalidParameter, `${name} ${why}`);
  };
  switch (spec.type) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) bad('must be an integer');
      const n = Number(raw);
      if (spec.min !== undefined && n < spec.min) bad(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) bad(`must be at most ${spec.max}`);
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) bad('must be a number');
      if (spec.min !== undefined && n < spec.min) bad(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) bad(`must be at most ${spec.max}`);
      return n;
    }
    case 'bool': {
      const v = raw.toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      return bad('must be true or false');
    }
    case 'enum':
      if (!spec.values?.includes(raw)) bad(`must be one of ${spec.values?.join(', ')}`);
      return raw;
    case 'sid':
      if (spec.prefix && !isSid(raw, spec.prefix)) bad(`must be a ${spec.prefix} SID`);
      return raw;
    case 'url': {
      try {
        const u = new URL(raw);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') bad('must be an http(s) URL');
      } catch {
        bad('must be an absolute URL');
      }
      return raw;
    }
    case 'date': {
      if (!DATE.test(raw)) bad('must be a date (YYYY-MM-DD or ISO 8601)');
      const ms = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw);
      if (Number.isNaN(ms)) bad('must be a valid date');
      return ms;
    }
    default:
      if (spec.max !== undefined && raw.length > spec.max)
        bad(`must be at most ${spec.max} characters`);
      return raw;
  }
}

/** A route's declared parameters, indexed once; validates each request's raw parameters. */
export interface ParamTable {
  validate(
    raw: Readonly<Record<string, string | string[] | undefined>>,
    ignore: ReadonlySet<string>,
  ): Input;
}

export function compileParams(specs: readonly ParamSpec[]): ParamTable {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const required = specs.filter((s) => s.required);
  const none = new Input(new Map());
  return {
    validate(raw, ignore) {
      let out: Map<string, string | number | boolean | string[]> | undefined;
      for (const name in raw) {
        const value = raw[name];
        if (value === undefined || ignore.has(name)) continue;
        const spec = byName.get(name);
        if (!spec) throw new TwilioError(Errors.unknownParameter, name);
        out ??= new Map();
        if (spec.type === 'list') {
          const values = Array.isArray(value) ? value : [value];
          // Twilio accepts repeated keys; some clients send one space- or comma-separated value.
          out.set(
            name,
            values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== ''),
          );
          continue;
        }
        if (Array.isArray(value)) {
          throw new TwilioError(Errors.invalidParameter, `${name} was given more than once`);
        }
        out.set(name, one(name, spec, value));
      }
      for (const spec of required) {
        if (!out?.has(spec.name)) throw new TwilioError(Errors.missingParameter, spec.name);
      }
      // Most GETs carry no parameters: they share one empty Input.
      return out ? new Input(out) : none;
    },
  };
}

// ---------------------------------------------------------------- paging

export interface PageRequest {
  readonly pageSize: number;
  readonly page: number;
  /** Sort key of the last item of the previous page, when following next_page_uri. */
  readonly after: readonly (string | number)[] | undefined;
  readonly token: string | undefined;
}

export const PAGE_PARAMS: readonly ParamSpec[] = [
  { name: 'PageSize', type: 'int', min: 1, max: 1000 },
  { name: 'Page', type: 'int', min: 0 },
  { name: 'PageToken', type: 'string', max: 512 },
];

export function encodePageToken(after: readonly (string | number)[]): string {
  return 'PT' + Buffer.from(JSON.stringify(after)).toString('base64url');
}

export function decodePageToken(token: string): (string | number)[] {
  const invalid = () => new TwilioError(Errors.invalidPageToken, token.slice(0, 40));
  if (!token.startsWith('PT')) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(2), 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    parsed.length > 4 ||
    !parsed.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw invalid();
  }
  return parsed as (string | number)[];
}

/**
 * Splits rows fetched with `limit(pageSize + 1)` into this page and, when there is more, the
 * sort key of its last row (which the next page's token carries).
 */
export function splitPage<Row>(
  req: RestRequest,
  rows: readonly Row[],
  sortKey: (last: Row) => readonly (string | number)[],
): { items: Row[]; next: readonly (string | number)[] | undefined } {
  const more = rows.length > req.page.pageSize;
  const items = more ? rows.slice(0, req.page.pageSize) : [...rows];
  const last = items.at(-1);
  return { items, next: more && last !== undefined ? sortKey(last) : undefined };
}

/** The (number, string) sort key of a PageToken for lists ordered by time then SID. */
export function afterTimeAndSid(req: RestRequest): [number, string] | undefined {
  if (!req.page.after) return undefined;
  const [a, b] = req.page.after;
  if (typeof a !== 'number' || typeof b !== 'string')
    throw new TwilioError(Errors.invalidPageToken);
  return [a, b];
}

export function pageRequest(input: Input): PageRequest {
  const token = input.string('PageToken');
  return {
    pageSize: input.int('PageSize') ?? 50,
    page: input.int('Page') ?? 0,
    after: token ? decodePageToken(token) : undefined,
    token,
  };
}

/**
 * A 2010-04-01 list response: `{<key>: items, page, page_size, uri, first_page_uri,
 * next_page_uri, previous_page_uri, start, end}` with URIs relative to the API root.
 * `next` is the sort key of the last item when there may be more.
 */
export function listPage2010(
  req: RestRequest,
  key: string,
  items: readonly unknown[],
  next: readonly (string | number)[] | undefined,
  filters: Readonly<Record<string, string | undefined>> = {},
): RestReply {
  const { page, pageSize } = req.page;
  const query = (extra: Record<string, string | number>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v !== undefined) q.set(k, v);
    q.set('PageSize', String(pageSize));
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return `${req.path}?${q.toString()}`;
  };
  const start = page * pageSize;
  return {
    status: 200,
    body: {
      [key]: items,
      page,
      page_size: pageSize,
      start,
      end: items.length === 0 ? start : start + items.length - 1,
      uri: query(req.page.token ? { Page: page, PageToken: req.page.token } : { Page: page }),
      first_page_uri: query({ Page: 0 }),
      next_page_uri: next ? query({ Page: page + 1, PageToken: encodePageToken(next) }) : null,
      previous_page_uri: null,
    },
  };
}

/** A v1/v2 list response: `{<key>: items, meta: {…, next_page_url}}` with absolute URLs. */
export function listPageV1(
  req: RestRequest,
  key: string,
  items: readonly unknown[],
  next: readonly (string | number)[] | undefined,
): RestReply {
  const { page, pageSize } = req.page;
  const url = (extra: Record<string, string | number>) => {
    const q = new URLSearchParams({ PageSize: String(pageSize) });
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return `${req.baseUrl}${req.path}?${q.toString()}`;
  };
  return {
    status: 200,
    body: {
      [key]: items,
      meta: {
        page,
        page_size: pageSize,
        first_page_url: url({ Page: 0 }),
        previous_page_url: null,
        url: url({ Page: page }),
        next_page_url: next ? url({ Page: page + 1, PageToken: encodePageToken(next) }) : null,
        key,
      },
    },
  };
}
