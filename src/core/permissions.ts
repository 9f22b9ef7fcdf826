// Restricted API keys: every route's permission, named as Twilio names the permissions of its
// restricted keys (`/twilio/{product}/{resource}/{action}`, sub-resources joined by dots,
// `read` = fetch one, `list` = list a collection; `/*` grants every action on a resource), and
// Switchboard's own extension routes in the same form under `/switchboard/`. The name is derived
// from the route descriptor, so a route added later has one without being listed anywhere; the
// overrides below are the resources Twilio names differently from their path.
import type { RestRoute } from './rest.js';

export type Action = 'create' | 'read' | 'list' | 'update' | 'delete';

/**
 * What a restricted key needs to call a route: a permission (a function of the request's path
 * parameters, because a tracker's permissions name the tracker), or `null` for routes that no
 * restricted key may call (accounts, keys, AuthTokens: Twilio keeps them to the AuthToken).
 */
export interface RoutePermission {
  /** The permission, with `{Name}` in place of a path parameter it names. */
  readonly template: string;
  /** The permission this request needs. */
  of(params: Readonly<Record<string, string>>): string;
}

const ACCOUNT_PREFIX = /^\/2010-04-01\/Accounts\/:AccountSid/;
const VERSION_PREFIX = /^\/v\d+/;

/** Path segments (collections) whose Twilio resource name is not their kebab-case. */
const RESOURCE_NAMES: Readonly<Record<string, string>> = {
  Applications: 'twiml.apps',
  Members: 'member',
  SIP: 'sip',
  PreBuilt: 'prebuilt',
};

/** Intelligence v2 resources as Twilio's voice permissions name them. */
const INTELLIGENCE: Readonly<Record<string, string>> = {
  Services: 'intelligence.services',
  'Services.Operators': 'intelligence.operator-attachment',
  Transcripts: 'intelligence.transcripts',
  'Transcripts.Sentences': 'intelligence.transcript-sentences',
  'Transcripts.Media': 'intelligence.transcript-media',
  'Transcripts.OperatorResults': 'intelligence.operator-results',
  Operators: 'intelligence.operators',
  'Operators.Custom': 'intelligence.operator.custom',
  'Operators.PreBuilt': 'intelligence.operator.prebuilt',
  OperatorTypes: 'intelligence.operator-types',
  'Search.Transcripts': 'intelligence.transcripts',
};

/** The 2010 API's collections that are Switchboard extensions, by capability. */
const EXTENSIONS_2010: Readonly<Record<string, string>> = {
  Ledger: 'billing',
  SpendLimit: 'billing',
  Segments: 'billing',
  Modules: 'voice',
  Events: 'events',
};

function kebab(segment: string): string {
  return RESOURCE_NAMES[segment] ?? segment.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function actionOf(method: RestRoute['method'], instance: boolean): Action {
  if (method === 'GET') return instance ? 'read' : 'list';
  if (method === 'DELETE') return 'delete';
  return instance ? 'update' : 'create';
}

/** The permission a route needs from a restricted key, or null when none may call it. */
export function routePermission(route: RestRoute): RoutePermission | null {
  // Public routes take no key; the operator's take its AuthToken only.
  if (route.auth === 'none' || route.operator) return null;
  if (route.domain === 'iam' || route.domain === 'accounts') return null;
  let path = route.path;
  if (route.domain === 'api') {
    if (!ACCOUNT_PREFIX.test(path)) return null; // Accounts.json itself
    path = path.replace(ACCOUNT_PREFIX, '');
  } else {
    path = path.replace(VERSION_PREFIX, '');
  }
  path = path.replace(/\.(json|wav|mp3)$/, '');
  const segments = path.split('/').filter((s) => s !== '');
  const first = segments[0];
  // The account itself and its keys: AuthToken only.
  if (first === undefined || first === 'Keys' || first === 'SigningKeys') return null;
  const instance = segments.at(-1)?.startsWith(':') ?? false;
  const collections = segments.filter((s) => !s.startsWith(':'));
  const action = actionOf(route.method, instance);

  if (route.domain === 'tracking') {
    // Switchboard's delegated access names the tracker: a key may read one tracker's figures
    // (`/switchboard/tracking/trackers/<TrackerSid>/measurements/read`) and nothing else.
    // A tracker's own resources (Measurements, Events) are read, not listed: one per tracker.
    const parts: string[] = [];
    for (const s of segments) parts.push(s.startsWith(':') ? `{${s.slice(1)}}` : kebab(s));
    const under = segments.length > 2 && !instance && route.method === 'GET';
    return template(`/switchboard/tracking/${parts.join('/')}/${under ? 'read' : action}`);
  }

  let vendor = 'twilio';
  let product: string;
  let resource = collections.map(kebab).join('.');
  switch (route.domain) {
    case 'api': {
      const extension = EXTENSIONS_2010[first] ?? EXTENSIONS_2010[collections.at(-1) ?? ''];
      if (extension) {
        vendor = 'switchboard';
        product = extension;
      } else if (first === 'Messages') product = 'messaging';
      else if (first === 'IncomingPhoneNumbers' || first === 'AvailablePhoneNumbers')
        product = 'phone-numbers';
      else if (first === 'Usage') {
        product = 'usage';
        resource = kebab(collections[1] ?? 'Records');
      } else product = 'voice';
      break;
    }
    case 'intelligence':
      product = 'voice';
      resource = INTELLIGENCE[collections.join('.')] ?? `intelligence.${resource}`;
      break;
    case 'messaging':
    case 'voice':
    case 'events':
    case 'supersim':
      product = route.domain;
      break;
    default:
      vendor = 'switchboard';
      product = route.domain;
  }
  return template(`/${vendor}/${product}/${resource}/${action}`);
}

function template(text: string): RoutePermission {
  const names = [...text.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1] ?? '');
  if (names.length === 0) return { template: text, of: () => text };
  return {
    template: text,
    of: (params) => text.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => params[name] ?? ''),
  };
}

/** Whether a key's `allow` list grants a permission (exactly, or by a `…/*` entry). */
export function allows(allow: ReadonlySet<string>, permission: string): boolean {
  if (allow.has(permission)) return true;
  const slash = permission.lastIndexOf('/');
  return slash > 0 && allow.has(`${permission.slice(0, slash)}/*`);
}

/**
 * Whether an `allow` entry names something a route needs: a permission of the route table, the
 * `/*` of a resource that has one, or a permission naming one tracker (any SID: a tracker of
 * another account grants nothing, because every route checks ownership anyway).
 */
export function isKnownPermission(entry: string, templates: ReadonlySet<string>): boolean {
  if (templates.has(entry)) return true;
  for (const t of templates) {
    const pattern = new RegExp(
      '^' +
        t
          .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
          .replace(/\{[A-Za-z]+\}/g, '[A-Z]{2}[0-9a-f]{32}')
          .replace(/\/(create|read|list|update|delete)$/, '/(create|read|list|update|delete|\\*)') +
        '$',
    );
    if (pattern.test(entry)) return true;
  }
  return false;
}
