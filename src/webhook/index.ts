// Webhooks out: signed requests to customers' URLs (voice TwiML, status callbacks, messaging).
export { twilioSignature } from './signature.js';
export {
  addressPolicy,
  addressPolicyOf,
  setAddressPolicy,
  AddressPolicy,
  DEFAULT_ADDRESS_POLICY,
  type AddressPolicyOptions,
} from './address-policy.js';
export {
  callWebhook,
  fetchResource,
  type WebhookRequest,
  type WebhookOutcome,
  type WebhookMethod,
} from './client.js';
export { WebhookSender } from './sender.js';
export type { WebhookFailure } from './ordered.js';
export {
  WebhookOutbox,
  outboxMigrations,
  type OutboxEntry,
  type OutboxOptions,
  type OutboxTables,
} from './outbox.js';
