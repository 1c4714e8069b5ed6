// IP ranges as operators write them (`10.0.0.0/8`, `198.51.100.7`,
// `2001:db8::/32`), for the gateway-wide and per-tenant address allowlists.

import { BlockList, isIP } from 'node:net';
import { GatewayError } from './errors.js';

/** Parses `10.0.0.0/8`, `192.168.1.7` or `2001:db8::/32`; throws REQUEST_INVALID naming the entry. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', bits, extra] = entry.trim().split('/');
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (version === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) {
    throw new GatewayError('REQUEST_INVALID', `"${entry.slice(0, 60)}" is not an IP address or CIDR range; write e.g. 203.0.113.0/24, 198.51.100.7 or 2001:db8::/32.`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A matcher for a list of CIDR entries; IPv4-mapped IPv6 client addresses match IPv4 ranges. */
export function ipMatcher(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const { address, prefix, family } = parseCidr(entry);
    list.addSubnet(address, prefix, family);
  }
  return (ip) => {
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    if (v4 !== undefined) return list.check(v4, 'ipv4');
    const version = isIP(ip);
    return version !== 0 && list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  };
}
