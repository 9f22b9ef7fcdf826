export {
  buildHttpServer,
  type HttpServerOptions,
  type Authenticator,
  type RequestRecorder,
} from './server.js';
export { openApiDocument } from './openapi.js';
export { throttleHook, THROTTLE_DELAY_HEADER } from './throttle-hook.js';
