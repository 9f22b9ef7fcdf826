// Throwaway PostgreSQL schema names for tests. Each name carries the id of the test run that
// made it, so that the run's teardown drops its own schemas and never another run's (several
// runs may share the database, e.g. two checkouts testing at once).
import { randomBytes } from 'node:crypto';

export function testSchema(prefix: 'sbt' | 'sbq' | 'sbc' | 'sbcli' | 'sbtest'): string {
  const run = process.env.SWITCHBOARD_TEST_RUN ?? '00000000';
  return `${prefix}_${run}${randomBytes(5).toString('hex')}`;
}

/**
 * The sealing key of the nodes that share a throwaway schema: each node has a data directory
 * of its own, so the key file made there on first start would differ from node to node.
 */
export function testSealingKey(schema: string): string {
  return `test-sealing-key-of-schema-${schema}`.padEnd(32, '-');
}
