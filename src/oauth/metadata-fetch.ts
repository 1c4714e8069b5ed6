// How the authorization server fetches a client ID metadata document. oidc-provider's
// own dispatcher refuses loopback and private addresses when it connects, but its
// refusal reaches the sign-in page as a bare "fetch failed"; a look-up of our own
// first lets the page say why, and which setting allows it.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ipMatcher } from '../cidr.js';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

// The special-use ranges of oidc-provider's dispatcher (lib/helpers/fetch_request.js), which
// still checks the address it connects to: this list only words the refusal.
const isSpecialUse = ipMatcher([
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.31.196.0/24', '192.52.193.0/24', '192.88.99.0/24', '192.168.0.0/16',
  '192.175.48.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
  '::/128', '::1/128', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '100:0:0:1::/64', '2001::/23',
  '2001:db8::/32', '2002::/16', '2620:4f:8000::/48', '3fff::/20', '5f00::/16', 'fc00::/7', 'fe80::/10',
]);

/** A metadata document whose host is, or resolves to, a loopback or private address, refused before any connection. */
export class MetadataAddressPrivate extends Error {
  readonly code = 'METADATA_ADDRESS_PRIVATE';
  readonly host: string;

  constructor(host: string) {
    super(`The client's metadata document is at ${host}, a loopback or private address, which this gateway does not fetch from. If that client is meant to be served from a private network, the operator can allow it with OAUTH_METADATA_PRIVATE_ADDRESSES=true.`);
    this.name = 'MetadataAddressPrivate';
    this.host = host;
  }
}

/** The MetadataAddressPrivate somewhere in an error's causes (the provider wraps what fetch throws). */
export function metadataAddressRefusal(error: unknown): MetadataAddressPrivate | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof MetadataAddressPrivate) return e;
  }
  return undefined;
}

/** The addresses `hostname` stands for; none when it cannot be resolved (the fetch then fails on its own). */
async function addressesOf(hostname: string): Promise<string[]> {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) return [bare];
  try {
    return (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/**
 * The provider's `fetch`. With `allowPrivate`, without the provider's dispatcher, so any
 * address is fetched from; otherwise with it, after refusing a host any of whose
 * addresses is special-use.
 */
export function metadataFetch(allowPrivate: boolean): Fetch {
  if (allowPrivate) {
    return (input, init = {}) => {
      const { dispatcher: _dispatcher, ...rest } = init as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(input, rest);
    };
  }
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const addresses = await addressesOf(url.hostname);
    if (addresses.some(isSpecialUse)) throw new MetadataAddressPrivate(url.hostname);
    return globalThis.fetch(input, init);
  };
}
