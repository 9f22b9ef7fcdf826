// The sealed columns of the accounts tables: AuthTokens (primary and secondary) and API key
// signing secrets. Rows are opened as they are read and sealed as they are written; every
// value is bound to its row and column (AES-GCM associated data), so a sealed value copied
// into another row or column does not open.
import type { Kysely } from '../store/index.js';
import { SealingError, loadKeyring, type Keyring, type KeyringOptions } from './sealing.js';
import type { AccountRecord, AccountRow, AccountTables } from './tables.js';

type Sealed<T> = { [K in keyof T]: T[K] } & { seal_key_id: string };

const aad = (table: string, column: string, sid: string) => `${table}.${column}:${sid}`;

export class Secrets {
  constructor(private readonly ring: Keyring) {}

  get keyring(): Keyring {
    return this.ring;
  }

  private openValue(
    value: string | null | undefined,
    keyId: string | null | undefined,
    where: string,
  ): string | null {
    if (value === null || value === undefined) return null;
    if (keyId === null || keyId === undefined) return value; // from before sealing
    return this.ring.open(value, keyId, where);
  }

  /** The account with its tokens in the clear (in memory only). */
  openAccount(record: AccountRecord): AccountRow {
    const { seal_key_id: keyId, ...row } = record;
    const open: AccountRow = {
      ...row,
      auth_token: this.openValue(row.auth_token, keyId, aad('accounts', 'auth_token', row.sid))!,
    };
    if (row.secondary_auth_token !== undefined) {
      open.secondary_auth_token = this.openValue(
        row.secondary_auth_token,
        keyId,
        aad('accounts', 'secondary_auth_token', row.sid),
      );
    }
    return open;
  }

  /** The token columns of an account, sealed under the current key. */
  sealAccount(
    sid: string,
    tokens: { auth_token: string; secondary_auth_token: string | null },
  ): Sealed<{ auth_token: string; secondary_auth_token: string | null }> {
    return {
      auth_token: this.ring.seal(tokens.auth_token, aad('accounts', 'auth_token', sid)),
      secondary_auth_token:
        tokens.secondary_auth_token === null
          ? null
          : this.ring.seal(
              tokens.secondary_auth_token,
              aad('accounts', 'secondary_auth_token', sid),
            ),
      seal_key_id: this.ring.currentId,
    };
  }

  openKeySecret(
    sid: string,
    sealed: string | null | undefined,
    keyId: string | null | undefined,
  ): string | null {
    return this.openValue(sealed, keyId, aad('api_keys', 'signing_secret', sid));
  }

  sealKeySecret(sid: string, secret: string): { signing_secret: string; seal_key_id: string } {
    return {
      signing_secret: this.ring.seal(secret, aad('api_keys', 'signing_secret', sid)),
      seal_key_id: this.ring.currentId,
    };
  }
}

export interface ResealOptions {
  /** Rows per transaction. */
  readonly batch?: number;
  /** A pause between batches, to spare a busy database during a long re-seal. */
  readonly pauseMs?: number;
  readonly onBatch?: (progress: { table: string; resealed: number }) => void;
}

export interface SealStatus {
  readonly current: string;
  readonly held: string[];
  /** Rows per key id ('clear' for rows not sealed yet), per table. */
  readonly rows: Record<'accounts' | 'api_keys', Record<string, number>>;
}

/** Counts the rows under each key (and in the clear). */
export async function sealStatus(db: Kysely<AccountTables>, ring: Keyring): Promise<SealStatus> {
  const rows: SealStatus['rows'] = { accounts: {}, api_keys: {} };
  for (const table of ['accounts', 'api_keys'] as const) {
    let q = db
      .selectFrom(table)
      .select((eb) => ['seal_key_id', eb.fn.countAll<string | number>().as('n')])
      .groupBy('seal_key_id');
    // Keys made before tokens were served have nothing to seal.
    if (table === 'api_keys') q = q.where('signing_secret', 'is not', null);
    for (const r of await q.execute()) rows[table][r.seal_key_id ?? 'clear'] = Number(r.n);
  }
  return { current: ring.currentId, held: ring.ids, rows };
}

/** Key ids that rows name (the rows in the clear are not counted). */
export async function keyIdsInUse(db: Kysely<AccountTables>): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const table of ['accounts', 'api_keys'] as const) {
    const rows = await db
      .selectFrom(table)
      .select('seal_key_id')
      .distinct()
      .where('seal_key_id', 'is not', null)
      .execute();
    for (const r of rows) if (r.seal_key_id) ids.add(r.seal_key_id);
  }
  return ids;
}

/**
 * Seals again, under the current key, every row sealed under another key or in the clear: after
 * an upgrade, or a new current key. Batches of rows, each in its own transaction, so an
 * interruption (a crash, a kill) leaves every row under one key or the other and a second run
 * goes on where it stopped. A row written meanwhile is left as its writer sealed it (each
 * update names the values it replaces). Returns the number of rows sealed again.
 */
export async function resealAll(
  db: Kysely<AccountTables>,
  secrets: Secrets,
  options: ResealOptions = {},
): Promise<number> {
  const batch = options.batch ?? 500;
  const current = secrets.keyring.currentId;
  let total = 0;
  // Passes until one finds nothing: a row another node wrote under an old key meanwhile is
  // caught by the next pass.
  for (let pass = 0; pass < 5; pass++) {
    let found = 0;
    let after = '';
    for (;;) {
      const records = await db
        .selectFrom('accounts')
        .selectAll()
        .where('sid', '>', after)
        .where((eb) => eb.or([eb('seal_key_id', 'is', null), eb('seal_key_id', '!=', current)]))
        .orderBy('sid')
        .limit(batch)
        .execute();
      if (records.length === 0) break;
      found += records.length;
      after = records[records.length - 1]!.sid;
      await db.transaction().execute(async (tx) => {
        for (const record of records) {
          const open = secrets.openAccount(record);
          const sealed = secrets.sealAccount(record.sid, {
            auth_token: open.auth_token,
            secondary_auth_token: open.secondary_auth_token ?? null,
          });
          let q = tx
            .updateTable('accounts')
            .set(sealed)
            .where('sid', '=', record.sid)
            .where('auth_token', '=', record.auth_token);
          q =
            record.secondary_auth_token === null || record.secondary_auth_token === undefined
              ? q.where('secondary_auth_token', 'is', null)
              : q.where('secondary_auth_token', '=', record.secondary_auth_token);
          const res = await q.executeTakeFirst();
          total += Number(res.numUpdatedRows);
        }
      });
      options.onBatch?.({ table: 'accounts', resealed: total });
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
    after = '';
    for (;;) {
      const records = await db
        .selectFrom('api_keys')
        .select(['sid', 'signing_secret', 'seal_key_id'])
        .where('sid', '>', after)
        .where('signing_secret', 'is not', null)
        .where((eb) => eb.or([eb('seal_key_id', 'is', null), eb('seal_key_id', '!=', current)]))
        .orderBy('sid')
        .limit(batch)
        .execute();
      if (records.length === 0) break;
      found += records.length;
      after = records[records.length - 1]!.sid;
      await db.transaction().execute(async (tx) => {
        for (const record of records) {
          const secret = secrets.openKeySecret(
            record.sid,
            record.signing_secret,
            record.seal_key_id,
          );
          if (secret === null) continue;
          const res = await tx
            .updateTable('api_keys')
            .set(secrets.sealKeySecret(record.sid, secret))
            .where('sid', '=', record.sid)
            .where('signing_secret', '=', record.signing_secret!)
            .executeTakeFirst();
          total += Number(res.numUpdatedRows);
        }
      });
      options.onBatch?.({ table: 'api_keys', resealed: total });
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
    if (found === 0) break;
  }
  return total;
}

/**
 * The secrets of this node, ready to seal and open: its keyring loaded (the key file made on
 * the first start of an empty database), checked against the keys the rows name, and every row
 * not under the current key sealed again (rows in the clear from before sealing, rows of a
 * previous key after a rotation, rows a re-seal left when it was interrupted).
 */
export async function openSecrets(
  db: Kysely<AccountTables>,
  options: Omit<KeyringOptions, 'mayCreate'> & { reseal?: boolean },
): Promise<{ secrets: Secrets; resealed: number }> {
  const inUse = await keyIdsInUse(db);
  const ring = loadKeyring({ ...options, mayCreate: inUse.size === 0 });
  const unknown = [...inUse].filter((id) => !ring.has(id));
  if (unknown.length) {
    throw new SealingError(
      `rows are sealed under key(s) ${unknown.join(', ')}, which ${ring.describe()} do not hold`,
    );
  }
  const secrets = new Secrets(ring);
  const resealed = options.reseal === false ? 0 : await resealAll(db, secrets);
  return { secrets, resealed };
}
