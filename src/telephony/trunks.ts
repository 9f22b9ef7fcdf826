// SWITCHBOARD_SIP_TRUNKS: the carriers E.164 numbers are dialled through, as SIP URIs with
// optional digest credentials (`sip:user:password@host:port;transport=tcp`), tried in order.
import { ConfigError } from '../core/index.js';
import type { Trunk } from '../sip/index.js';

const TRUNK =
  /^sip:(?:([^:@;]+)(?::([^@;]*))?@)?(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:;transport=(udp|tcp))?$/i;

export function parseTrunks(entries: readonly string[] | undefined): Trunk[] {
  return (entries ?? []).map((entry, i) => {
    const m = TRUNK.exec(entry.trim());
    if (!m)
      throw new ConfigError(
        `SWITCHBOARD_SIP_TRUNKS entry ${i + 1} is not sip:[user:password@]host[:port][;transport=tcp]`,
      );
    const [, user, password, host = '', port, transport] = m;
    return {
      name: `trunk-${i + 1}`,
      host: host.replace(/^\[|\]$/g, ''),
      ...(port ? { port: Number(port) } : {}),
      ...(transport ? { transport: transport.toLowerCase() as 'udp' | 'tcp' } : {}),
      ...(user
        ? {
            credentials: {
              username: decodeURIComponent(user),
              password: decodeURIComponent(password ?? ''),
            },
          }
        : {}),
      priority: i,
    };
  });
}
