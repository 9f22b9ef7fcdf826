// The accounts capability: accounts, subaccounts and API keys. It offers the account directory
// to the other capabilities and, to the composition root, the authenticator of the HTTP edge.
import { accountDirectory, apiCatalogue, offer, port, type Capability } from '../plugin/index.js';
import { Accounts, type OwnerAccount } from './accounts.js';
import { saveOwnerCredentials } from './owner-credentials.js';
import { iamRoutes } from './iam-routes.js';
import { openSecrets } from './secrets.js';
import { accountRoutes } from './routes.js';
import { migrations } from './tables.js';

/** What the composition root reads: the accounts (they authenticate requests) and the owner. */
export interface AccountsHandle {
  readonly accounts: Accounts;
  readonly owner: OwnerAccount;
}
export const accountsHandle = port<AccountsHandle>('accounts');

export const accountsCapability: Capability = {
  name: 'accounts',
  migrations,
  needs: [apiCatalogue],
  async start(ctx) {
    const { secrets, resealed } = await openSecrets(ctx.store.kysely(), ctx.config);
    if (resealed) {
      ctx.logger.info(
        { resealed, key: secrets.keyring.currentId },
        'secrets sealed under the current key',
      );
    }
    const accounts = new Accounts(ctx.store, secrets);
    const owner = await accounts.ensureOwner({
      sid: ctx.config.accountSid,
      authToken: ctx.config.authToken,
    });
    if (owner.created) saveOwnerCredentials(ctx.config.dataDir, owner);
    const catalogue = ctx.need(apiCatalogue);
    return {
      routes: [
        ...accountRoutes(accounts, () => catalogue.subresources()),
        ...iamRoutes(accounts, () => catalogue.permissions()),
      ],
      offers: [
        offer(accountsHandle, { accounts, owner }),
        offer(accountDirectory, {
          authToken: async (sid: string) => (await accounts.find(sid))?.auth_token,
          status: async (sid: string) => (await accounts.find(sid))?.status,
          signingKey: (sid: string) => accounts.signingKey(sid),
          subaccountsOf: (sid: string) => accounts.subaccountsOf(sid),
        }),
      ],
    };
  },
};
