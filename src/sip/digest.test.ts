import { describe, expect, it } from 'vitest';
import {
  NonceFactory,
  authorize,
  digestResponse,
  parseAuthHeader,
  pickChallenge,
  verify,
} from './digest.js';

describe('digest', () => {
  it('matches the RFC 2617 MD5 example', () => {
    expect(
      digestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        cnonce: '0a4f113b',
        nc: '00000001',
        qop: 'auth',
        method: 'GET',
        uri: '/dir/index.html',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('matches the RFC 7616 SHA-256 and MD5 examples', () => {
    const base = {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      password: 'Circle of Life',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      nc: '00000001',
      qop: 'auth',
      method: 'GET',
      uri: '/dir/index.html',
    };
    expect(digestResponse({ ...base, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
    expect(digestResponse({ ...base, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('prefers SHA-256 among offered challenges and parses quoted commas', () => {
    const c = pickChallenge([
      'Digest realm="a, b", nonce="n1", algorithm=MD5, qop="auth,auth-int"',
      'Digest realm="a, b", nonce="n2", algorithm=SHA-256, qop="auth"',
    ]);
    expect(c).toMatchObject({ realm: 'a, b', nonce: 'n2', algorithm: 'SHA-256', qop: 'auth' });
    expect(parseAuthHeader('Digest username="x\\"y"').params.username).toBe('x"y');
  });

  it('stateless nonces validate on any node with the secret, go stale, and reject forgeries', async () => {
    const node1 = new NonceFactory({ secret: 's', ttlSeconds: 60 });
    const node2 = new NonceFactory({ secret: 's', ttlSeconds: 60 });
    const other = new NonceFactory({ secret: 't' });
    const n = node1.create('r');
    expect(node2.check(n, 'r')).toBe('ok');
    expect(node2.check(n, 'other-realm')).toBe('invalid');
    expect(other.check(n, 'r')).toBe('invalid');
    expect(node2.check(n, 'r', Date.now() + 61_000)).toBe('stale');
    expect(node2.check('zz.' + n.split('.')[1], 'r')).toBe('invalid');

    // Many concurrent challenges to one user all stay valid (no per-user nonce slot).
    const lookup = (): { password: string } => ({ password: 'pw' });
    const nonces = Array.from({ length: 20 }, () => node1.create('r'));
    for (const nonce of nonces) {
      const header = authorize(
        { realm: 'r', nonce, algorithm: 'SHA-256', qop: 'auth', stale: false },
        { username: 'u', password: 'pw' },
        'REGISTER',
        'sip:r',
      );
      expect(await verify(header, 'REGISTER', 'r', node2, lookup)).toEqual({
        ok: true,
        username: 'u',
      });
    }
    const bad = authorize(
      { realm: 'r', nonce: nonces[0] as string, algorithm: 'MD5', stale: false },
      { username: 'u', password: 'nope' },
      'REGISTER',
      'sip:r',
    );
    expect(await verify(bad, 'REGISTER', 'r', node2, lookup)).toMatchObject({
      ok: false,
      reason: 'wrong password',
    });
  });
});
