// The ports capabilities offer one another. Each is a narrow interface, declared here so that
// a capability needing it depends on this contract, not on the capability that offers it.
import { port } from './capability.js';

/** One logged interaction (API request, call, segment, message, …) with its tags. */
export interface LoggedEvent {
  readonly accountSid: string | null;
  readonly kind: string;
  readonly actorSid?: string | null;
  readonly method?: string | null;
  readonly resource?: string | null;
  readonly status?: number | null;
  readonly durationMs?: number | null;
  readonly subjectSid?: string | null;
  readonly occurredAt?: number;
  readonly tags?: readonly string[];
  readonly data?: Readonly<Record<string, unknown>> | null;
}

/** The interaction log (offered by the platform's event log). */
export interface InteractionLog {
  record(event: LoggedEvent): void;
}
export const interactionLog = port<InteractionLog>('interaction-log');

/** What other capabilities may know of an account. */
export interface AccountDirectory {
  /** The account's auth token (signs its webhooks), or undefined when it does not exist. */
  authToken(accountSid: string): Promise<string | undefined>;
  status(accountSid: string): Promise<'active' | 'suspended' | 'closed' | undefined>;
}
export const accountDirectory = port<AccountDirectory>('account-directory');
