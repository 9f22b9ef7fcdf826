// Status callbacks: each is posted once the status it reports is stored (it rides on the
// pending write batch, writes.ts), signed with the account's AuthToken, in order per message.
import type { Logger } from '../core/index.js';
import { WebhookSender } from '../webhook/index.js';
import type { SmsJob } from './job.js';
import type { MessageStatusChange } from './options.js';
import type { MessageStatus } from './tables.js';
import type { MessageWrites } from './writes.js';

/** Where a message's status callbacks go, remembered while it is in flight. */
export interface CallbackTarget {
  readonly cb: string | null;
  readonly service: string | null;
}

const NONE: CallbackTarget = { cb: null, service: null };

export class StatusCallbacks {
  /** Posted in order per message from a thread of their own. */
  private readonly sender: WebhookSender;
  /** Callbacks waiting for their account's AuthToken (kept in order). */
  private waitingForToken: { run?: () => void }[] = [];
  private readonly targets = new Map<string, CallbackTarget>();
  private readonly tokenCache = new Map<string, { token: string | undefined; at: number }>();

  constructor(
    private readonly o: {
      readonly logger: Logger;
      readonly writes: MessageWrites;
      authToken(accountSid: string): Promise<string | undefined>;
      readonly attempts: number;
      readonly pipelining: number;
      /** Each status a message takes after its create (the interaction log records it). */
      readonly onStatus?: ((change: MessageStatusChange) => void) | undefined;
    },
  ) {
    this.sender = new WebhookSender(o.logger, 'status callback', o.pipelining);
  }

  start(): void {
    this.sender.start();
  }

  async close(): Promise<void> {
    while (this.waitingForToken.length) await new Promise((r) => setTimeout(r, 5));
    await this.sender.close();
  }

  /** Remembers where the callbacks of an accepted message go. */
  remember(sid: string, target: CallbackTarget): void {
    this.targets.set(sid, target);
  }

  targetOf(sid: string): CallbackTarget {
    return this.targets.get(sid) ?? NONE;
  }

  /** The message is final: no more callbacks after this one. */
  forget(sid: string): CallbackTarget {
    const t = this.targetOf(sid);
    this.targets.delete(sid);
    return t;
  }

  async tokenOf(accountSid: string): Promise<string | undefined> {
    const c = this.cachedToken(accountSid);
    if (c) return c.token;
    const token = await this.o.authToken(accountSid);
    this.tokenCache.set(accountSid, { token, at: Date.now() });
    return token;
  }

  private cachedToken(accountSid: string): { token: string | undefined } | undefined {
    const c = this.tokenCache.get(accountSid);
    return c && Date.now() - c.at < 60_000 ? c : undefined;
  }

  /**
   * A status the message took: reported to the interaction log, and called back (posted once
   * the status it reports is stored).
   */
  send(
    job: SmsJob,
    url: string | null,
    service: string | null,
    status: MessageStatus,
    code: number | null,
  ): void {
    this.o.onStatus?.({
      accountSid: job.acct,
      messageSid: job.sid,
      status,
      errorCode: code,
      segments: job.seg,
    });
    if (!url) return;
    this.o.writes.after(() => this.post(job, url, service, status, code));
  }

  /**
   * Status callbacks of one message are posted in order, each retried (webhook/sender.ts); a
   * callback whose AuthToken must be read first holds the ones after it, so order is kept.
   */
  private post(
    job: SmsJob,
    url: string,
    service: string | null,
    status: MessageStatus,
    code: number | null,
  ): void {
    const params: Record<string, string> = {
      MessageSid: job.sid,
      SmsSid: job.sid,
      AccountSid: job.acct,
      From: job.from,
      To: job.to,
      MessageStatus: status,
      SmsStatus: status,
      ApiVersion: '2010-04-01',
      ...(service ? { MessagingServiceSid: service } : {}),
      ...(code ? { ErrorCode: String(code) } : {}),
    };
    const post = (token: string | undefined) => {
      if (token === undefined) return; // the account is gone
      this.sender.send(job.sid, {
        url,
        params,
        authToken: token,
        attempts: this.o.attempts,
        retryOnStatus: true,
        timeoutMs: 10_000,
      });
    };
    const cached = this.cachedToken(job.acct);
    if (cached && !this.waitingForToken.length) return post(cached.token);
    const entry: { run?: () => void } = {};
    this.waitingForToken.push(entry);
    if (cached) {
      entry.run = () => post(cached.token);
      return;
    }
    void this.tokenOf(job.acct)
      .catch((e: Error) => {
        this.o.logger.warn({ sid: job.sid, url, err: e.message }, 'status callback failed');
        return undefined;
      })
      .then((token) => {
        entry.run = () => post(token);
        // In order: up to the first callback still waiting for its token.
        while (this.waitingForToken[0]?.run) this.waitingForToken.shift()!.run!();
      });
  }
}
