import type { Migration } from '../../store/index.js';

/** A call queue (QU…). `current_size` and `last_seq` change only in the same statement that
 * adds or removes a member, so the size check and the FIFO order hold across nodes. */
export interface QueueRow {
  sid: string;
  account_sid: string;
  friendly_name: string;
  max_size: number;
  current_size: number;
  /** Position counter: each member takes the next value; the front is the smallest. */
  last_seq: number;
  date_created: number;
  date_updated: number;
}

/** A call waiting in a queue. The row exists exactly while the call waits. */
export interface MemberRow {
  call_sid: string;
  queue_sid: string;
  account_sid: string;
  seq: number;
  date_enqueued: number;
  /** The node whose engine holds the waiting call (its media can be bridged only there). */
  node_id: string;
  /** Last time that node said it still holds the call (a crashed node's members expire). */
  last_seen: number;
}

export interface QueueTables {
  call_queues: QueueRow;
  call_queue_members: MemberRow;
}

export const migrations: Record<string, Migration> = {
  voice_0101_queues: {
    async up(db) {
      await db.schema
        .createTable('call_queues')
        .addColumn('sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('friendly_name', 'varchar(64)', (c) => c.notNull())
        .addColumn('max_size', 'integer', (c) => c.notNull())
        .addColumn('current_size', 'integer', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('date_created', 'bigint', (c) => c.notNull())
        .addColumn('date_updated', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('call_queues_account_name', ['account_sid', 'friendly_name'])
        .execute();
      await db.schema
        .createIndex('call_queues_account_created')
        .on('call_queues')
        .columns(['account_sid', 'date_created', 'sid'])
        .execute();
      await db.schema
        .createTable('call_queue_members')
        .addColumn('call_sid', 'varchar(34)', (c) => c.primaryKey())
        .addColumn('queue_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('account_sid', 'varchar(34)', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('date_enqueued', 'bigint', (c) => c.notNull())
        .addColumn('node_id', 'varchar(64)', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('call_queue_members_order')
        .on('call_queue_members')
        .columns(['queue_sid', 'seq'])
        .execute();
    },
  },
  voice_0102_queue_member_heartbeat: {
    async up(db) {
      await db.schema
        .alterTable('call_queue_members')
        .addColumn('last_seen', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
};
