import { describe, expect, it } from 'vitest';
import { hashSecret, matchesHash, parseBasic, sameSecret } from './credentials.js';

const AC = 'AC' + '0123456789abcdef'.repeat(2);

describe('credentials', () => {
  it('parses Basic credentials and rejects oversized or other schemes', () => {
    const h = 'Basic ' + Buffer.from(`${AC}:secret:with:colons`).toString('base64');
    expect(parseBasic(h)).toEqual([AC, 'secret:with:colons']);
    expect(parseBasic('Basic ' + 'A'.repeat(5000))).toBeUndefined();
    expect(parseBasic('Bearer x')).toBeUndefined();
    expect(parseBasic('Basic ' + Buffer.from('no-colon').toString('base64'))).toBeUndefined();
    expect(parseBasic('Basic ' + Buffer.from(':empty-user').toString('base64'))).toBeUndefined();
  });
  it('compares secrets whatever their lengths', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
    expect(matchesHash('s3cret', hashSecret('s3cret'))).toBe(true);
    expect(matchesHash('s3cret', hashSecret('other'))).toBe(false);
    expect(matchesHash('s3cret', 'not-hex')).toBe(false);
  });
});
