// For Twilio SDK users: one line points every Twilio domain at a Switchboard server.
//   const client = twilio(sid, token, { httpClient: switchboardClient('http://127.0.0.1:3000') });
// Requests to https://<domain>.twilio.com/... go to BASE/<domain>/... (api goes to BASE/...),
// which covers every resource and both paging styles (next_page_uri and meta.next_page_url).
import twilio from 'twilio';

type RequestClientOptions = ConstructorParameters<typeof twilio.RequestClient>[0];
type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

const TWILIO_HOST = /^https:\/\/([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.twilio\.com(?::443)?(?=\/|$)/i;

/** Rewrites a Twilio URL to the Switchboard server at `base`; other URLs pass unchanged. */
export function rewriteTwilioUrl(url: string, base: string): string {
  const root = base.replace(/\/+$/, '');
  const m = TWILIO_HOST.exec(url);
  if (!m) return url;
  const domain = (m[1] ?? 'api').toLowerCase();
  const rest = url.slice(m[0].length);
  return domain === 'api' ? root + rest : `${root}/${domain}${rest}`;
}

export class SwitchboardRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: string,
    options?: RequestClientOptions,
  ) {
    super(options);
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    return super.request<TData>({ ...opts, uri: rewriteTwilioUrl(opts.uri, this.base) });
  }
}

export function switchboardClient(
  base: string,
  options?: RequestClientOptions,
): SwitchboardRequestClient {
  return new SwitchboardRequestClient(base, options);
}
