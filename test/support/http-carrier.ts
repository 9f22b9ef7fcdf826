// An HTTP carrier for tests and benchmarks, speaking the contract of ./contract.ts: it checks
// the signature of every submit, answers (after a configurable latency) with a message id or
// with the failure configured (4xx refusals, 429, 5xx, silence), posts signed delivery reports
// to the message's status_callback, and can originate inbound messages (MO, with media).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  signedHeaders,
  verify,
  type CarrierCallback,
  type DeliveryStatus,
  type SubmitRequest,
} from '../../src/messaging/carriers/http/contract.js';

export interface HttpCarrierBehaviour {
  secret: string;
  /** Milliseconds before each submit is answered. */
  latencyMs: number;
  /** Answer every submit with this HTTP status (e.g. 503, 429); 0 = accept. */
  failStatus: number;
  /** Destinations starting with one of these are refused 400 invalid_destination. */
  rejectPrefixes: string[];
  /** Destinations starting with one of these get an `undelivered` report. */
  undeliverablePrefixes: string[];
  /** Accept media_urls (otherwise 400 mms_not_supported). */
  mms: boolean;
  /** Never answer submits (the platform sees an unknown outcome). */
  silent: boolean;
  receipts: boolean;
  receiptDelayMs: number;
}

export interface HttpSubmitted extends SubmitRequest {
  readonly messageId: string;
  readonly at: number;
  readonly idempotencyKey: string;
}

export class TestHttpCarrier {
  readonly behaviour: HttpCarrierBehaviour;
  readonly submits: HttpSubmitted[] = [];
  /** Submits refused or failed, with the status answered. */
  readonly refusals: { to: string; status: number; at: number }[] = [];
  /** Callbacks posted, with the platform's answer. */
  readonly callbacks: { body: CarrierCallback; status: number }[] = [];
  /** Where MO messages go (set by the test: the provider's callback URL). */
  callbackUrl: string | undefined;
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly open = new Set<ServerResponse>();
  port = 0;

  constructor(behaviour: Partial<HttpCarrierBehaviour> = {}) {
    this.behaviour = {
      secret: 'test-carrier-shared-secret',
      latencyMs: 0,
      failStatus: 0,
      rejectPrefixes: [],
      undeliverablePrefixes: [],
      mms: true,
      silent: false,
      receipts: true,
      receiptDelayMs: 5,
      ...behaviour,
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/messages`;
  }

  async start(port = 0): Promise<number> {
    const server = createServer((req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.open) r.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** An MO message posted to `callbackUrl`; resolves with the platform's HTTP status. */
  async sendMo(
    from: string,
    to: string,
    body: string,
    media: { url: string; contentType: string }[] = [],
  ): Promise<number> {
    return this.post({
      type: 'inbound',
      from,
      to,
      body,
      ...(media.length
        ? {
            media_urls: media.map((m) => m.url),
            media_content_types: media.map((m) => m.contentType),
          }
        : {}),
    });
  }

  /** Posts a signed callback (or one signed with `secret`, to test refusals). */
  async post(
    cb: CarrierCallback,
    url = this.callbackUrl,
    secret = this.behaviour.secret,
    at = Date.now(),
  ) {
    if (!url) throw new Error('TestHttpCarrier: no callback URL');
    const body = JSON.stringify(cb);
    const res = await fetch(url, {
      method: 'POST',
      headers: signedHeaders(secret, body, at),
      body,
    });
    await res.text();
    this.callbacks.push({ body: cb, status: res.status });
    return res.status;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        this.open.delete(res);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/messages') {
        answer(404, { error: { code: 'not_found' } });
        return;
      }
      const v = verify(this.behaviour.secret, req.headers, raw, 300);
      if (!v.ok) {
        answer(401, { error: { code: 'bad_signature', message: v.why } });
        return;
      }
      const sub = JSON.parse(raw) as SubmitRequest;
      const b = this.behaviour;
      if (b.silent) {
        this.open.add(res);
        return;
      }
      this.open.add(res);
      this.later(b.latencyMs, () =>
        this.answerSubmit(sub, String(req.headers['idempotency-key'] ?? ''), answer),
      );
    });
  }

  private answerSubmit(
    sub: SubmitRequest,
    idempotencyKey: string,
    answer: (status: number, body: unknown) => void,
  ): void {
    const b = this.behaviour;
    const to = sub.to.replace(/^\+/, '');
    const refuse = (status: number, code: string) => {
      this.refusals.push({ to: sub.to, status, at: Date.now() });
      answer(status, { error: { code, message: `test carrier: ${code}` } });
    };
    if (b.failStatus)
      return refuse(b.failStatus, b.failStatus === 429 ? 'throttled' : 'unavailable');
    if (b.rejectPrefixes.some((p) => to.startsWith(p.replace(/^\+/, '')))) {
      return refuse(400, 'invalid_destination');
    }
    if (sub.media_urls?.length && !b.mms) return refuse(400, 'mms_not_supported');
    const messageId = 'hc-' + randomBytes(8).toString('hex');
    this.submits.push({ ...sub, messageId, idempotencyKey, at: Date.now() });
    answer(202, { message_id: messageId });
    if (!b.receipts || !sub.status_callback) return;
    const status: DeliveryStatus = b.undeliverablePrefixes.some((p) =>
      to.startsWith(p.replace(/^\+/, '')),
    )
      ? 'undelivered'
      : 'delivered';
    const url = sub.status_callback;
    const report: CarrierCallback = {
      type: 'receipt',
      message_id: messageId,
      status,
      ...(status === 'delivered' ? {} : { error_code: 'absent_subscriber' }),
    };
    this.later(b.receiptDelayMs, () => this.report(report, url, 0));
  }

  /** Like a real carrier, a report the platform did not take with 200 is posted again. */
  private report(cb: CarrierCallback, url: string, attempt: number): void {
    // A refused connection counts as a failed post (status 0) and is retried like a 5xx.
    void this.post(cb, url)
      .catch(() => 0)
      .then((status) => {
        if (status !== 200 && attempt < 8 && this.server) {
          this.later(100 * 2 ** attempt, () => this.report(cb, url, attempt + 1));
        }
      });
  }
}
