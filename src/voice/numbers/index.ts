export { Numbers, type NumberInput, type NumberRoute, type NumberSmsRoute } from './numbers.js';
export { numberRoutes, numberJson } from './routes.js';
export { parseAddress, routeKeys, type Address, type AddressType } from './address.js';
export { migrations, type NumberRow, type NumberTables } from './tables.js';
