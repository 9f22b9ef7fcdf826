// Status callbacks of SMS and IP Commands to their CallbackUrl. The job that sends a command's
// callbacks is committed with the status change itself (a queue in the SQL store), so a crash
// loses none; after a restart, or on another node once a claim's lease ran out, it is taken up
// again. A command's callbacks go out in order (an SMS Command's `sent` before its
// `delivered`); how many were answered is kept on the command, so a retry resends none twice.
import type { Logger } from '../core/index.js';
import type { AccountDirectory } from '../plugin/index.js';
import { createSqlQueues, type Queue, type QueueJob } from '../queue/index.js';
import type { Statement, Store } from '../store/index.js';
import { callWebhook, type WebhookMethod } from '../webhook/index.js';
import type { CommandStore } from './commands.js';
import type { SuperSimStore } from './supersim-store.js';
import type { CommandRow, SimRow } from './tables.js';

interface Job {
  readonly sid: string;
}

export interface CommandCallbackOptions {
  readonly store: Store;
  readonly commands: CommandStore;
  readonly sims: SuperSimStore;
  readonly accounts: AccountDirectory | undefined;
  readonly logger: Logger;
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  /** A callback still failing this long after its command settled is given up on (ms). */
  readonly giveUpAfterMs?: number;
  /** How often the queue is looked at for retries and other nodes' work (ms). */
  readonly pollMs?: number;
  /** Bound on one attempt (ms). */
  readonly timeoutMs?: number;
}

/**
 * The status callbacks a command's CallbackUrl gets, in order, for where it stands. The real
 * API creates a command `queued` (the create request's answer says so) and calls back as it
 * moves on: an SMS Command to `sent` and then `delivered`, an IP Command to `sent`; either to
 * `failed` when it can no longer reach the device.
 */
export function callbackStatuses(row: Pick<CommandRow, 'kind' | 'status'>): readonly string[] {
  if (row.status === 'failed') return ['failed'];
  if (row.kind === 'sms' && row.status === 'delivered') return ['sent', 'delivered'];
  if (row.status === 'sent') return ['sent'];
  return [];
}

/** The form parameters of one callback: the command's fields in the API's PascalCase. */
export function callbackParams(
  row: CommandRow,
  sim: SimRow | undefined,
  status: string,
): Record<string, string> {
  const p: Record<string, string> = {
    AccountSid: row.account_sid,
    [row.kind === 'sms' ? 'SmsCommandSid' : 'IpCommandSid']: row.sid,
    SimSid: row.sim_sid,
    Status: status,
    Direction: row.direction,
  };
  if (sim) p.SimIccid = sim.iccid;
  if (sim?.unique_name) p.SimUniqueName = sim.unique_name;
  if (row.kind === 'ip') {
    p.PayloadType = row.payload_type;
    if (row.device_port !== null) p.DevicePort = String(row.device_port);
  }
  return p;
}

const QUEUE = 'coverage-command-callbacks';
/** Jobs one pass claims (and sends side by side). */
const CLAIM = 32;

export class CommandCallbacks {
  private queue: Queue<Job> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly o: Required<
    Pick<
      CommandCallbackOptions,
      'firstRetryMs' | 'maxRetryMs' | 'giveUpAfterMs' | 'pollMs' | 'timeoutMs'
    >
  > &
    CommandCallbackOptions;

  constructor(options: CommandCallbackOptions) {
    this.o = {
      firstRetryMs: 1000,
      maxRetryMs: 60_000,
      giveUpAfterMs: 24 * 3600_000,
      pollMs: 500,
      timeoutMs: 10_000,
      ...options,
    };
  }

  async start(): Promise<void> {
    this.queue = await createSqlQueues(this.o.store).open<Job>(QUEUE, { leaseMs: 60_000 });
    this.timer = setInterval(() => this.kick(), this.o.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Waits for the pass under way; jobs claimed and not finished come back after their lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** The statements that schedule a command's callbacks, for the unit changing its status. */
  schedule(row: CommandRow): Statement[] {
    if (!row.callback_url || !this.queue?.inStore) return [];
    return this.queue.inStore.add([{ id: row.sid, data: { sid: row.sid } }]);
  }

  /** Looks at the queue soon (a command settled). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.o.logger.warn({ err }, 'command callbacks pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async pass(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    for (;;) {
      const jobs = await queue.claim(CLAIM);
      if (!jobs.length) return;
      await Promise.all(jobs.map((j) => this.deliver(queue, j)));
      if (this.stopped || jobs.length < CLAIM) return;
    }
  }

  private async deliver(queue: Queue<Job>, job: QueueJob<Job>): Promise<void> {
    try {
      const done = await this.send(job);
      if (done) await queue.ack([job.id]);
      else await this.retryOrGiveUp(queue, job);
    } catch (err) {
      this.o.logger.warn({ err, command: job.data.sid }, 'command callback failed; retried');
      await this.retryOrGiveUp(queue, job).catch(() => undefined);
    }
  }

  private async retryOrGiveUp(queue: Queue<Job>, job: QueueJob<Job>): Promise<void> {
    if (Date.now() - job.enqueuedAt >= this.o.giveUpAfterMs) {
      this.o.logger.warn({ command: job.data.sid }, 'command callback given up on');
      await queue.ack([job.id]);
      return;
    }
    const delay = Math.min(this.o.firstRetryMs * 2 ** (job.attempts - 1), this.o.maxRetryMs);
    await queue.release([job.id], delay);
  }

  /** Sends the command's callbacks not yet answered; false when one must be retried. */
  private async send(job: QueueJob<Job>): Promise<boolean> {
    const row = await this.o.commands.bySid(job.data.sid);
    if (!row?.callback_url) return true;
    const token = await this.o.accounts?.authToken(row.account_sid);
    // The account is gone: nobody is left to sign for, or to tell.
    if (!token) return true;
    const sim = await this.o.sims.simAnyAccount(row.sim_sid);
    const statuses = callbackStatuses(row);
    for (let i = Number(row.callbacks_sent); i < statuses.length; i++) {
      const res = await callWebhook({
        url: row.callback_url,
        method: row.callback_method as WebhookMethod,
        params: callbackParams(row, sim, statuses[i]!),
        authToken: token,
        timeoutMs: this.o.timeoutMs,
        attempts: 1,
      });
      // A refusal (4xx other than 429) is the receiver's answer: not retried, as Twilio does.
      const retry = !res.ok || res.status >= 500 || res.status === 429;
      if (retry) {
        this.o.logger.info(
          { command: row.sid, url: row.callback_url, outcome: res.ok ? res.status : res.code },
          'command callback not taken; retried',
        );
        return false;
      }
      if (res.status >= 400)
        this.o.logger.warn(
          { command: row.sid, url: row.callback_url, status: res.status },
          'command callback refused',
        );
      await this.o.commands.callbacksSent(row.sid, i + 1);
    }
    return true;
  }
}
