export {
  Modules,
  canUseModule,
  dispatch,
  isVisibleTo,
  parseModuleRef,
  toModuleInfo,
  validateModuleCode,
  type ApplicationInput,
  type DispatchDeps,
  type DispatchTarget,
  type ModuleInfo,
  type PolicyDecision,
  type PolicyDeps,
} from './modules.js';
export { applicationRoutes, applicationJson } from './routes.js';
export {
  migrations,
  type ApplicationRow,
  type HttpMethod,
  type ModuleTables,
  type Visibility,
} from './tables.js';
