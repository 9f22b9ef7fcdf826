export { buildHttpServer, type HttpServerOptions, type Authenticator } from './server.js';
export type { RequestRecorder } from './observe.js';
export { openApiDocument } from './openapi.js';
export { THROTTLE_DELAY_HEADER } from './throttle-hook.js';
export { startTlsListener, type TlsListener, type TlsOptions } from './tls.js';
export { bindHttpListener, type HttpListener } from './listener.js';
