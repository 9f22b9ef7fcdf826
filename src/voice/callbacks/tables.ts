import { sql } from 'kysely';
import type { Migration } from '../../store/index.js';

/**
 * One status callback accepted for delivery (the outbox). A call's callbacks form a chain,
 * delivered one after another in `seq` order. A delivered row stays (with `delivered_ms`)
 * until its chain closes, so that a restart knows where a live call's numbering stood; the
 * delivery of the closing row (the call's `completed`) removes the whole chain.
 */
export interface CallbackRow {
  /** The call, recording or conference whose events these are (its SID). */
  chain: string;
  /** Order within the chain: the callback's SequenceNumber. */
  seq: number;
  /** Signs with this account's AuthToken as it is when the callback is sent. */
  account_sid: string;
  url: string;
  method: string;
  /** The form parameters, as JSON (a snapshot taken when the event happened). */
  params: string;
  /** 0 for a row that only closes its chain (the call's `completed` was not asked for). */
  send: number;
  /** 1 for the chain's last row (the call ended). */
  closes: number;
  created_ms: number;
  /** Set once delivered (or given up on). */
  delivered_ms: number | null;
  /** The node delivering the chain, for as long as its lease runs. */
  node_id: string;
  /** Another node may take the chain over after this (the node holding it crashed). */
  lease_until: number;
}

export interface CallbackTables {
  call_callbacks: CallbackRow;
}

export const migrations: Record<string, Migration> = {
  voice_callbacks_0001_outbox: {
    async up(db) {
      await db.schema
        .createTable('call_callbacks')
        .addColumn('chain', 'varchar(34)', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('method', 'varchar(8)', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('send', 'integer', (c) => c.notNull())
        .addColumn('closes', 'integer', (c) => c.notNull())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .addColumn('delivered_ms', 'bigint')
        .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('call_callbacks_pk', ['chain', 'seq'])
        .execute();
      // What is still to deliver: few rows (most are delivered within milliseconds).
      await db.schema
        .createIndex('call_callbacks_pending')
        .on('call_callbacks')
        .columns(['lease_until'])
        .where(sql.ref('delivered_ms'), 'is', null)
        .execute();
    },
  },
};
