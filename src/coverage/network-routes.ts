// Extension routes for what Twilio provisions itself: the networks SIMs may use (Twilio lists
// its roaming partners; self-hosted, the operator declares them, with a switching cost).
import { fail } from '../core/errors.js';
import type { RestRoute } from '../core/rest.js';
import { networkJson } from './supersim-json.js';
import type { SuperSimStore } from './supersim-store.js';

export function networkAdminRoutes(sims: SuperSimStore): RestRoute[] {
  return [
    {
      method: 'POST',
      domain: 'coverage',
      path: '/v1/Networks',
      summary: 'Declare a cellular network SIMs can use (Switchboard extension)',
      params: [
        { name: 'FriendlyName', type: 'string', required: true, max: 64 },
        { name: 'IsoCountry', type: 'string', required: true, max: 2 },
        { name: 'Mcc', type: 'string', max: 3 },
        { name: 'Mnc', type: 'string', max: 3 },
        { name: 'SwitchCostSeconds', type: 'number', min: 0, max: 600 },
      ],
      async handler(req) {
        const iso = req.input.string('IsoCountry') ?? '';
        if (!/^[A-Z]{2}$/.test(iso))
          fail('invalidParameter', 'IsoCountry must be two capital letters');
        const mcc = req.input.string('Mcc');
        const mnc = req.input.string('Mnc');
        if (
          (mcc !== undefined && !/^\d{3}$/.test(mcc)) ||
          (mnc !== undefined && !/^\d{2,3}$/.test(mnc))
        )
          fail('invalidParameter', 'Mcc must be 3 digits, Mnc 2 or 3');
        const row = await sims.createNetwork(req.account.sid, {
          friendlyName: req.input.string('FriendlyName') ?? '',
          isoCountry: iso,
          identifiers: mcc && mnc ? [{ mcc, mnc }] : [],
          switchCostS: req.input.number('SwitchCostSeconds') ?? 8,
        });
        const supersimBase = req.baseUrl.replace(/\/coverage$/, '/supersim');
        return {
          status: 201,
          body: { ...networkJson(row, supersimBase), switch_cost_seconds: row.switch_cost_s },
        };
      },
    },
  ];
}
