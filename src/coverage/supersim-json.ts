// Super SIM resources as the API renders them (field names from the Super SIM v1 spec).
import { iso8601 } from '../core/dates.js';
import type { CommandRow, FleetRow, NetworkRow, ProfileRow, SimRow } from './tables.js';

export function networkJson(r: NetworkRow, base: string) {
  return {
    sid: r.sid,
    friendly_name: r.friendly_name,
    url: `${base}/v1/Networks/${r.sid}`,
    iso_country: r.iso_country,
    identifiers: JSON.parse(r.identifiers) as unknown,
  };
}

export function profileNetworkJson(r: NetworkRow, profileSid: string, base: string) {
  return {
    sid: r.sid,
    network_access_profile_sid: profileSid,
    friendly_name: r.friendly_name,
    iso_country: r.iso_country,
    identifiers: JSON.parse(r.identifiers) as unknown,
    url: `${base}/v1/NetworkAccessProfiles/${profileSid}/Networks/${r.sid}`,
  };
}

export function profileJson(r: ProfileRow, base: string) {
  const url = `${base}/v1/NetworkAccessProfiles/${r.sid}`;
  return {
    sid: r.sid,
    unique_name: r.unique_name,
    account_sid: r.account_sid,
    date_created: iso8601(r.date_created),
    date_updated: iso8601(r.date_updated),
    url,
    links: { networks: `${url}/Networks` },
  };
}

export function fleetJson(r: FleetRow, base: string) {
  return {
    account_sid: r.account_sid,
    sid: r.sid,
    unique_name: r.unique_name,
    date_created: iso8601(r.date_created),
    date_updated: iso8601(r.date_updated),
    url: `${base}/v1/Fleets/${r.sid}`,
    data_enabled: r.data_enabled === 1,
    data_limit: r.data_limit,
    data_metering: 'payg',
    sms_commands_enabled: r.sms_commands_enabled === 1,
    sms_commands_url: r.sms_commands_url,
    sms_commands_method: r.sms_commands_method,
    network_access_profile_sid: r.network_access_profile_sid,
    ip_commands_url: r.ip_commands_url,
    ip_commands_method: r.ip_commands_method,
  };
}

export function simJson(r: SimRow, base: string) {
  const url = `${base}/v1/Sims/${r.sid}`;
  return {
    sid: r.sid,
    unique_name: r.unique_name,
    account_sid: r.account_sid,
    iccid: r.iccid,
    status: r.status,
    fleet_sid: r.fleet_sid,
    date_created: iso8601(r.date_created),
    date_updated: iso8601(r.date_updated),
    url,
    links: { billing_periods: `${url}/BillingPeriods`, sim_ip_addresses: `${url}/IpAddresses` },
  };
}

export function smsCommandJson(r: CommandRow, base: string) {
  return {
    sid: r.sid,
    account_sid: r.account_sid,
    sim_sid: r.sim_sid,
    payload: r.payload,
    status: r.status,
    direction: r.direction,
    date_created: iso8601(r.date_created),
    date_updated: iso8601(r.date_updated),
    url: `${base}/v1/SmsCommands/${r.sid}`,
  };
}

export function ipCommandJson(r: CommandRow, iccid: string, base: string) {
  return {
    sid: r.sid,
    account_sid: r.account_sid,
    sim_sid: r.sim_sid,
    sim_iccid: iccid,
    status: r.status,
    direction: r.direction,
    device_ip: null,
    device_port: r.device_port,
    payload_type: r.payload_type,
    payload: r.payload,
    date_created: iso8601(r.date_created),
    date_updated: iso8601(r.date_updated),
    url: `${base}/v1/IpCommands/${r.sid}`,
  };
}
