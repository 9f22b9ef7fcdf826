// What the REST routes of voice's account-owned resources share: list filters, the webhook
// fields of Applications and IncomingPhoneNumbers, item routes and the account table.
export { dateParams, echoFilters, whereDates } from './list-filters.js';
export { AccountTable, type OwnedRow, type Page } from './account-table.js';
export { itemRoutes, type ItemRoutes } from './account-routes.js';
export {
  METHODS,
  SMS_WEBHOOK_PARAMS,
  VOICE_WEBHOOK_PARAMS,
  addSmsWebhookColumns,
  addVoiceWebhookColumns,
  optionalApplicationSid,
  optionalUrl,
  readSmsWebhook,
  readVoiceWebhook,
  smsWebhookDefaults,
  smsWebhookJson,
  voiceWebhookDefaults,
  voiceWebhookJson,
  type HttpMethod,
  type SmsWebhookFields,
  type VoiceWebhookFields,
} from './webhook-fields.js';
