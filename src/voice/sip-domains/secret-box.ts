// Seals SIP credential passwords at rest. Digest authentication (RFC 8760) needs
// H(username:realm:password) where the realm is the SIP Domain's name; a CredentialList can
// be mapped to any domain after its credentials exist, so a one-way hash taken at creation
// time cannot serve later realms. The password is therefore kept encrypted (AES-256-GCM)
// under a key the operator holds (SWITCHBOARD_SIP_CREDENTIAL_KEY), never returned by the API,
// and decrypted only to answer a digest challenge.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export class SecretBox {
  readonly keyId: string;
  private readonly key: Buffer;

  /** `material`: the configured key string, or generated random bytes. */
  constructor(material: string | Buffer) {
    this.key = Buffer.from(
      hkdfSync('sha256', material, 'switchboard', 'sip-credential-passwords', 32),
    );
    this.keyId = createHash('sha256').update(this.key).digest('hex').slice(0, 16);
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url); the credential SID is bound as AAD. */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', iv, tag, body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The password, or undefined when the value was sealed under another key or altered. */
  open(sealed: string, aad: string): string | undefined {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || iv === undefined || tag === undefined || body === undefined) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
