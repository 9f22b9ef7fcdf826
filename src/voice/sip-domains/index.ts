// SIP Domains, CredentialLists and Credentials (Twilio's /SIP resources) and the
// registration policy the SIP registrar applies per domain. See docs/sip.md.
export {
  SipDomains,
  isStrongSipPassword,
  type CallPolicy,
  type RegistrationPolicy,
  type DomainInput,
} from './sip-domains.js';
export { sipDomainRoutes, credentialJson, credentialListJson, domainJson } from './routes.js';
export { SecretBox } from './secret-box.js';
export {
  migrations,
  type SipDomainTables,
  type SipDomainRow,
  type CredentialRow,
  type CredentialListRow,
  type MappingKind,
} from './tables.js';
