import { describe, expect, it } from 'vitest';
import { parseAddress, routeKeys } from './address.js';

describe('number addresses', () => {
  it('parses E.164, SIP URIs and user parts, and refuses the rest', () => {
    expect(parseAddress('+15551234567')).toEqual({
      type: 'e164',
      display: '+15551234567',
      key: 'tel:+15551234567',
    });
    expect(parseAddress('sip:support@Example.COM:5060;transport=tcp')).toEqual({
      type: 'sip',
      display: 'sip:support@example.com',
      key: 'sip:support@example.com',
    });
    expect(parseAddress('support')).toEqual({
      type: 'user',
      display: 'support',
      key: 'user:support',
    });
    expect(parseAddress('1001')?.type).toBe('user');
    for (const bad of [
      '+0123',
      '+1 555 123',
      'sip:@host',
      'hello world',
      '',
      '+1555123456789012',
    ]) {
      expect(parseAddress(bad)).toBeUndefined();
    }
  });

  it('turns an inbound To into candidate keys, most specific first', () => {
    expect(routeKeys('+15551234567')).toEqual(['tel:+15551234567']);
    expect(routeKeys('tel:+15551234567;phone-context=x')).toEqual(['tel:+15551234567']);
    expect(routeKeys('<sip:+15551234567@10.0.0.1:5080;user=phone>')).toEqual([
      'sip:+15551234567@10.0.0.1',
      'tel:+15551234567',
      'user:+15551234567',
    ]);
    expect(routeKeys('sip:15551234567@h')).toContain('tel:+15551234567');
    expect(routeKeys('sip:support@Switchboard.Local')).toEqual([
      'sip:support@switchboard.local',
      'user:support',
    ]);
    expect(routeKeys('support')).toEqual(['user:support']);
    expect(routeKeys('%%%')).toEqual([]);
  });
});
