import type { Migration } from '../../store/index.js';

/** A SIP CredentialList (CL…): a named set of username/password pairs of one account. */
export interface CredentialListRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  date_created: number;
  date_updated: number;
}

/**
 * A SIP Credential (CR…). The password is kept only as `secret`: AES-256-GCM under the SIP
 * credential key (secret-box.ts), because digest needs H(user:realm:password) for realms
 * (domain names) that are not known when the credential is created: a list can be mapped
 * to a new domain at any time. `key_id` names the key that sealed it.
 */
export interface CredentialRow {
  sid: string;
  account_sid: string;
  credential_list_sid: string;
  username: string;
  secret: string;
  key_id: string;
  date_created: number;
  date_updated: number;
}

/** A SIP Domain (SD…): a host name phones register to and call into. Unique platform-wide. */
export interface SipDomainRow {
  sid: string;
  account_sid: string;
  /** Lower case; the digest realm of its registrations. */
  domain_name: string;
  friendly_name: string | null;
  voice_url: string | null;
  voice_method: string;
  voice_fallback_url: string | null;
  voice_fallback_method: string;
  voice_status_callback_url: string | null;
  voice_status_callback_method: string;
  sip_registration: number;
  emergency_calling_enabled: number;
  secure: number;
  byoc_trunk_sid: string | null;
  emergency_caller_sid: string | null;
  date_created: number;
  date_updated: number;
}

/** `registrations` (Auth/Registrations) or `calls` (Auth/Calls and the legacy mappings). */
export type MappingKind = 'registrations' | 'calls';

/** A CredentialListMapping: its SID is the mapped list's CL SID, as in Twilio. */
export interface CredentialListMappingRow {
  domain_sid: string;
  kind: MappingKind;
  credential_list_sid: string;
  account_sid: string;
  date_created: number;
  date_updated: number;
}

/** Platform-wide settings of this capability (the generated credential key). */
export interface SipSettingRow {
  name: string;
  value: string;
}

export interface SipDomainTables {
  sip_credential_lists: CredentialListRow;
  sip_credentials: CredentialRow;
  sip_domains: SipDomainRow;
  sip_credential_list_mappings: CredentialListMappingRow;
  sip_settings: SipSettingRow;
}

export const migrations: Record<string, Migration> = {
  voice_sip_domains_0001: {
    async up(db) {
      await db.schema
        .createTable('sip_credential_lists')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'varchar(64)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('sip_credential_lists_name', ['account_sid', 'friendly_name'])
        .execute();
      await db.schema
        .createIndex('sip_credential_lists_account_created')
        .on('sip_credential_lists')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('sip_credentials')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('credential_list_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('username', 'varchar(32)', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('key_id', 'varchar(16)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('sip_credentials_username', ['credential_list_sid', 'username'])
        .execute();
      await db.schema
        .createTable('sip_domains')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('domain_name', 'varchar(253)', (c) => c.notNull().unique())
        .addColumn('friendly_name', 'varchar(64)')
        .addColumn('voice_url', 'text')
        .addColumn('voice_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('voice_fallback_url', 'text')
        .addColumn('voice_fallback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('voice_status_callback_url', 'text')
        .addColumn('voice_status_callback_method', 'varchar(8)', (c) => c.notNull())
        .addColumn('sip_registration', 'integer', (c) => c.notNull())
        .addColumn('emergency_calling_enabled', 'integer', (c) => c.notNull())
        .addColumn('secure', 'integer', (c) => c.notNull())
        .addColumn('byoc_trunk_sid', 'varchar(34)')
        .addColumn('emergency_caller_sid', 'varchar(34)')
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('sip_domains_account_created')
        .on('sip_domains')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('sip_credential_list_mappings')
        .addColumn('domain_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('credential_list_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sip_credential_list_mappings_pk', [
          'domain_sid',
          'kind',
          'credential_list_sid',
        ])
        .execute();
      await db.schema
        .createIndex('sip_credential_list_mappings_list')
        .on('sip_credential_list_mappings')
        .columns(['credential_list_sid'])
        .execute();
      await db.schema
        .createTable('sip_settings')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
