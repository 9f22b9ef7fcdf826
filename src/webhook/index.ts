// Webhooks out: signed requests to customers' URLs (voice TwiML, status callbacks, messaging).
export { twilioSignature } from './signature.js';
export {
  callWebhook,
  type WebhookRequest,
  type WebhookOutcome,
  type WebhookMethod,
} from './client.js';
export { WebhookSender } from './sender.js';
export type { WebhookFailure } from './ordered.js';
