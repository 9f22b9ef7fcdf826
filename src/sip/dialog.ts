// SIP dialogs (RFC 3261 section 12): identifiers, CSeq spaces, route set, remote target,
// and construction of in-dialog requests. In-dialog requests are sent to the peer the
// dialog was set up with (symmetric signalling), which keeps NATed phones reachable.

import {
  EMPTY_BODY,
  Headers,
  formatUri,
  type NameAddr,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from './message.js';
import { SipParseError, parseNameAddr, parseNameAddrList, parseUri } from './parser.js';
import type { Peer } from './transport.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface RequestOptions {
  body?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export class Dialog {
  state: DialogState = 'early';
  /** CSeq of the INVITE (or re-INVITE) whose 2xx we ACK. */
  inviteSeq = 0;

  private constructor(
    readonly callId: string,
    readonly localTag: string,
    public remoteTag: string,
    public localSeq: number,
    public remoteSeq: number,
    readonly local: NameAddr,
    readonly remote: NameAddr,
    public remoteTarget: string,
    readonly routeSet: string[],
    readonly peer: Peer,
    readonly contact: string,
    readonly userAgent: string,
  ) {}

  get id(): string {
    return dialogId(this.callId, this.localTag, this.remoteTag);
  }

  /** UAS side: from an incoming dialog-creating request and our To tag. */
  static fromRequest(
    req: SipRequest,
    localTag: string,
    source: Peer,
    contact: string,
    userAgent: string,
  ): Dialog {
    const target = firstContactUri(req.headers.getAll('contact')) ?? req.from.uri;
    const d = new Dialog(
      req.callId,
      localTag,
      req.from.params.tag ?? '',
      0,
      req.cseq.seq,
      { display: req.to.display, uri: req.to.uri, params: { ...req.to.params, tag: localTag } },
      req.from,
      formatUri(target),
      req.headers.getAll('record-route'),
      source,
      contact,
      userAgent,
    );
    d.inviteSeq = req.cseq.seq;
    return d;
  }

  /** UAC side: from our request and a response carrying a To tag. */
  static fromResponse(
    req: SipRequest,
    res: SipResponse,
    dest: Peer,
    ourContact: string,
    userAgent: string,
  ): Dialog {
    const contact = firstContactUri(res.headers.getAll('contact'));
    const d = new Dialog(
      req.callId,
      req.from.params.tag ?? '',
      res.to.params.tag ?? '',
      req.cseq.seq,
      0,
      req.from,
      res.to,
      contact !== undefined ? formatUri(contact) : req.uri,
      res.headers.getAll('record-route').reverse(),
      dest,
      ourContact,
      userAgent,
    );
    d.inviteSeq = req.cseq.seq;
    if (res.status >= 200) d.state = 'confirmed';
    return d;
  }

  /** Refresh the remote target from a Contact (2xx, re-INVITE). */
  updateTarget(contacts: readonly string[]): void {
    const t = firstContactUri(contacts);
    if (t !== undefined) this.remoteTarget = formatUri(t);
  }

  /**
   * Check an incoming in-dialog request's CSeq (RFC 3261 12.2.2): false when it is lower
   * than the last one (answer 500).
   */
  acceptRemoteSeq(req: SipRequest): boolean {
    if (req.method === 'ACK' || req.method === 'CANCEL') return true;
    if (this.remoteSeq !== 0 && req.cseq.seq < this.remoteSeq) return false;
    this.remoteSeq = req.cseq.seq;
    return true;
  }

  /** Build an in-dialog request (RFC 3261 12.2.1.1). ACK reuses `inviteSeq`. */
  createRequest(method: string, opts: RequestOptions = {}): SipRequest {
    let seq: number;
    if (method === 'ACK') seq = this.inviteSeq;
    else {
      this.localSeq = this.localSeq === 0 ? 1 : this.localSeq + 1;
      seq = this.localSeq;
      if (method === 'INVITE') this.inviteSeq = seq;
    }
    const headers = new Headers();
    let uri = this.remoteTarget;
    const routes = this.routeSet;
    if (routes.length > 0) {
      const first = parseNameAddr(routes[0] as string);
      const loose = !(first instanceof SipParseError) && first.uri.params.lr !== undefined;
      if (loose) for (const r of routes) headers.append('Route', r);
      else if (!(first instanceof SipParseError)) {
        // Strict router: it goes in the Request-URI and the remote target goes last.
        uri = formatUri({ ...first.uri, headers: undefined });
        for (const r of routes.slice(1)) headers.append('Route', r);
        headers.append('Route', `<${this.remoteTarget}>`);
      }
    }
    headers.append('Max-Forwards', '70');
    if (method !== 'ACK' && method !== 'CANCEL' && method !== 'BYE')
      headers.append('Contact', this.contact);
    headers.append('User-Agent', this.userAgent);
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers.append(k, v);
    const body = opts.body ?? EMPTY_BODY;
    if (body.length > 0) headers.append('Content-Type', opts.contentType ?? 'application/sdp');
    return {
      kind: 'request',
      method,
      uri,
      vias: [],
      from: this.local,
      to:
        this.remote.params.tag === this.remoteTag
          ? this.remote
          : {
              display: this.remote.display,
              uri: this.remote.uri,
              params: { ...this.remote.params, tag: this.remoteTag },
            },
      callId: this.callId,
      cseq: { seq, method },
      headers,
      body,
    };
  }
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

function firstContactUri(values: readonly string[]): SipUri | undefined {
  if (values.length === 0) return undefined;
  const list = parseNameAddrList(values);
  if (list instanceof SipParseError || list.length === 0) return undefined;
  return (list[0] as NameAddr).uri;
}

/** Check whether a URI string parses (helper for callers validating targets). */
export function isValidUri(s: string): boolean {
  return !(parseUri(s) instanceof SipParseError);
}
