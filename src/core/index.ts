export {
  Errors,
  TwilioError,
  fail,
  isTwilioError,
  type ErrorSpec,
  type ErrorName,
} from './errors.js';
export { newSid, newTimeOrderedSid, isSid, type SidPrefix } from './sid.js';
export { rfc2822, iso8601 } from './dates.js';
export { CONFIG_KEYS, loadConfig, ConfigError, type Config } from './config.js';
export { createLogger, type Logger } from './logger.js';
