export {
  buildHttpServer,
  type HttpServerOptions,
  type Authenticator,
  type RequestRecorder,
} from './server.js';
export { openApiDocument } from './openapi.js';
