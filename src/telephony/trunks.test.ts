import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/index.js';
import { parseTrunks } from './trunks.js';

describe('SWITCHBOARD_SIP_TRUNKS', () => {
  it('reads host, port, transport and digest credentials, in order', () => {
    expect(
      parseTrunks(['sip:acct%40x:p%3Ass@sip.carrier.example:5080;transport=tcp', 'sip:[::1]']),
    ).toEqual([
      {
        name: 'trunk-1',
        host: 'sip.carrier.example',
        port: 5080,
        transport: 'tcp',
        credentials: { username: 'acct@x', password: 'p:ss' },
        priority: 0,
      },
      { name: 'trunk-2', host: '::1', priority: 1 },
    ]);
    expect(parseTrunks(undefined)).toEqual([]);
  });

  it('refuses what is not a SIP URI', () => {
    expect(() => parseTrunks(['carrier.example'])).toThrow(ConfigError);
    expect(() => parseTrunks(['sip:carrier.example;transport=sctp'])).toThrow(ConfigError);
  });
});
