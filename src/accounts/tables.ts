import { PostgresAdapter, type Kysely } from 'kysely';
import type { Migration } from '../store/index.js';
import type { AccountStatus } from '../core/rest.js';

export interface AccountRow {
  sid: string;
  parent_sid: string | null;
  friendly_name: string;
  status: AccountStatus;
  auth_token: string;
  /** Twilio's secondary auth token: also authenticates, until promoted or deleted. */
  secondary_auth_token?: string | null;
  secondary_created?: number | null;
  date_created: number;
  date_updated: number;
}

/**
 * An account as stored: its tokens sealed under the key `seal_key_id` names (sealing.ts), or in
 * the clear when it is null (rows from before sealing, sealed at the next start).
 */
export interface AccountRecord extends AccountRow {
  seal_key_id?: string | null;
}

export interface KeyRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  /** sha256 of the secret: secrets are 32 random bytes, so a fast hash is enough. */
  secret_hash: string;
  /**
   * The secret itself, for verifying the HMAC of AccessTokens signed with it (HS256 needs the
   * key, not a hash of it; Twilio holds it too). Null for keys made before tokens were served.
   * Sealed, as the account's AuthTokens are, under the key `seal_key_id` names.
   */
  signing_secret?: string | null;
  /** A restricted key's policy as JSON (`{"allow": [...]}`); null for a standard key. */
  policy?: string | null;
  seal_key_id?: string | null;
  date_created: number;
  date_updated: number;
}

/** A platform-wide role held by one account: today only 'operator'. */
export interface RoleRow {
  role: string;
  account_sid: string;
}

export interface AccountTables {
  accounts: AccountRecord;
  api_keys: KeyRow;
  platform_roles: RoleRow;
}

export const migrations: Record<string, Migration> = {
  accounts_0001_accounts_and_keys: {
    async up(db) {
      await db.schema
        .createTable('accounts')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('parent_sid', 'varchar(34)', (c) => c.references('accounts.sid'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('auth_token', 'varchar(64)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('accounts_parent_created')
        .on('accounts')
        .columns(['parent_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull().references('accounts.sid'))
        .addColumn('friendly_name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('api_keys_account_created')
        .on('api_keys')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
    },
  },
  accounts_0002_key_signing_secret: {
    async up(db) {
      await db.schema.alterTable('api_keys').addColumn('signing_secret', 'text').execute();
    },
  },
  // The operator is recorded rather than inferred ("the oldest account without a parent"), so
  // that no tenant created before or beside it can ever be taken for it.
  accounts_0003_platform_roles: {
    async up(db) {
      await db.schema
        .createTable('platform_roles')
        .addColumn('role', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull().references('accounts.sid'))
        .execute();
    },
  },
  // Rotation of an AuthToken without downtime: a second token valid beside the first, then
  // promoted in its place (Twilio's accounts/v1 AuthTokens resources).
  accounts_0004_secondary_auth_token: {
    async up(db) {
      await db.schema
        .alterTable('accounts')
        .addColumn('secondary_auth_token', 'varchar(64)')
        .execute();
      await db.schema.alterTable('accounts').addColumn('secondary_created', 'bigint').execute();
    },
  },
  // Restricted API keys (iam v1): the permissions the key is limited to.
  accounts_0005_key_policy: {
    async up(db) {
      await db.schema.alterTable('api_keys').addColumn('policy', 'text').execute();
    },
  },
  // Tokens and key secrets sealed under a key kept outside the database (sealing.ts): each row
  // names its key. A sealed token is longer than the 64 characters the columns allowed.
  accounts_0006_sealed_secrets: {
    async up(db) {
      await db.schema.alterTable('accounts').addColumn('seal_key_id', 'varchar(16)').execute();
      await db.schema.alterTable('api_keys').addColumn('seal_key_id', 'varchar(16)').execute();
      if (isPostgres(db)) {
        for (const column of ['auth_token', 'secondary_auth_token']) {
          await db.schema
            .alterTable('accounts')
            .alterColumn(column, (c) => c.setDataType('text'))
            .execute();
        }
      }
    },
  },
};

// SQLite does not enforce a varchar's length (nor can it alter a column's type).
const isPostgres = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof PostgresAdapter;
