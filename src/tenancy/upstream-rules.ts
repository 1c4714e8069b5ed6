// Who gets what when a person signs in at the upstream OpenID provider: an
// ordered list of rules from OAUTH_UPSTREAM_TENANTS, each matching one fact of
// the ID token (a verified email domain, a group, any claim's value) to a
// tenant and scopes. The first rule that matches decides; no match, no grant.
//
//   domain:acme.com -> acme read write; group:graph-admins -> acme read write admin; claim:org_id=org_7 -> beta read

import { isScope, type Scope } from './scopes.js';
import { validateTenantId } from './tenant-id.js';

export type UpstreamMatch =
  /** The `email` claim's domain, only when `email_verified` is true. */
  | { kind: 'domain'; domain: string }
  /** A value of the groups claim (OAUTH_UPSTREAM_GROUPS_CLAIM). */
  | { kind: 'group'; group: string }
  /** A claim equal to the value, or an array claim holding it. */
  | { kind: 'claim'; claim: string; value: string };

export interface UpstreamRule {
  match: UpstreamMatch;
  tenant: string;
  scopes: Scope[];
  /** The rule as written (normalised), for the audit trail and error messages. */
  text: string;
}

export const UPSTREAM_RULES_EXAMPLE = 'domain:acme.com -> acme read write; group:graph-admins -> acme read write admin';

function parseMatch(text: string): UpstreamMatch {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon).trim().toLowerCase();
  const rest = colon < 0 ? '' : text.slice(colon + 1).trim();
  if (rest === '') throw new Error(`"${text}" must be domain:NAME, group:NAME or claim:NAME=VALUE`);
  if (kind === 'domain') {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(rest)) throw new Error(`"${rest}" is not a domain name such as acme.com`);
    return { kind, domain: rest.toLowerCase() };
  }
  if (kind === 'group') return { kind, group: rest };
  if (kind === 'claim') {
    const equals = rest.indexOf('=');
    const claim = equals < 0 ? '' : rest.slice(0, equals).trim();
    const value = equals < 0 ? '' : rest.slice(equals + 1).trim();
    if (claim === '' || value === '') throw new Error(`"${text}" must be claim:NAME=VALUE, such as claim:org_id=org_7`);
    return { kind, claim, value };
  }
  throw new Error(`"${text}" must start with domain:, group: or claim:`);
}

function matchText(match: UpstreamMatch): string {
  if (match.kind === 'domain') return `domain:${match.domain}`;
  if (match.kind === 'group') return `group:${match.group}`;
  return `claim:${match.claim}=${match.value}`;
}

/** Parses OAUTH_UPSTREAM_TENANTS: rules separated by `;` or new lines. Throws an Error saying which rule is wrong and how. */
export function parseUpstreamRules(text: string): UpstreamRule[] {
  const entries = text.split(/[;\n]/).map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new Error(`must hold at least one rule, such as ${UPSTREAM_RULES_EXAMPLE}`);
  return entries.map((entry, index) => {
    const where = `rule ${index + 1}`;
    const arrow = entry.indexOf('->');
    if (arrow < 0) throw new Error(`${where} ("${entry}") needs "->" between what it matches and the tenant and scopes it grants, as in ${UPSTREAM_RULES_EXAMPLE}`);
    let match: UpstreamMatch;
    try {
      match = parseMatch(entry.slice(0, arrow).trim());
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
    const [tenantText, ...scopeWords] = entry.slice(arrow + 2).trim().split(/\s+/).filter((w) => w !== '');
    let tenant: string;
    try {
      tenant = validateTenantId(tenantText ?? '');
    } catch {
      throw new Error(`${where} ("${entry}") must name a tenant id after "->"`);
    }
    if (scopeWords.length === 0) throw new Error(`${where} ("${entry}") must list the scopes it grants after the tenant (read, write, admin)`);
    const unknown = scopeWords.find((s) => !isScope(s));
    if (unknown !== undefined) throw new Error(`${where}: "${unknown}" is not a scope; use read, write or admin`);
    const scopes = [...new Set(scopeWords)] as Scope[];
    return { match, tenant, scopes, text: `${matchText(match)} -> ${tenant} ${scopes.join(' ')}` };
  });
}

/** The claims of a verified ID token (only what the rules read). */
export type UpstreamClaims = Readonly<Record<string, unknown>>;

function holds(claim: unknown, value: string): boolean {
  if (Array.isArray(claim)) return claim.some((item) => holds(item, value));
  if (typeof claim === 'string') return claim === value;
  if (typeof claim === 'number' || typeof claim === 'boolean') return String(claim) === value;
  return false;
}

/** The `email` claim when the provider says it verified it and it has the form local@domain. */
function verifiedEmail(claims: UpstreamClaims): string | undefined {
  const email = claims['email'];
  return typeof email === 'string' && claims['email_verified'] === true && email.lastIndexOf('@') >= 1 ? email : undefined;
}

/** The verified email's domain, lower-cased; undefined when there is no email or it is not verified. */
export function verifiedEmailDomain(claims: UpstreamClaims): string | undefined {
  const email = verifiedEmail(claims);
  return email?.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

/** The first rule the claims match, or undefined. */
export function matchUpstreamRule(rules: readonly UpstreamRule[], claims: UpstreamClaims, groupsClaim: string): UpstreamRule | undefined {
  const domain = verifiedEmailDomain(claims);
  return rules.find(({ match }) => {
    if (match.kind === 'domain') return domain === match.domain;
    if (match.kind === 'group') return holds(claims[groupsClaim], match.group);
    return Object.hasOwn(claims, match.claim) && holds(claims[match.claim], match.value);
  });
}

const DEVICE_LIMIT = 64;

/**
 * The device a federated sign-in becomes: the client's name and who signed in
 * (verified email, else preferred_username, else the subject), e.g.
 * `claude-alice@acme.com`, kept to what a device name may hold.
 */
export function upstreamDeviceName(claims: UpstreamClaims, clientName: string): string {
  const email = verifiedEmail(claims);
  const username = typeof claims['preferred_username'] === 'string' ? claims['preferred_username'] : undefined;
  const who = email ?? username ?? String(claims['sub'] ?? 'user');
  const clean = (text: string) => text.toLowerCase().replace(/[^a-z0-9_.@-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
  const client = clean(clientName).slice(0, 20).replace(/-+$/, '') || 'app';
  const name = `${client}-${clean(who) || 'user'}`.slice(0, DEVICE_LIMIT);
  return name.replace(/[^a-z0-9]+$/, '') || 'app-user';
}

/** Who signed in, as the audit trail names them: the verified email, else the subject. */
export function upstreamUser(claims: UpstreamClaims): string {
  const email = verifiedEmail(claims);
  return email ?? `sub:${String(claims['sub'] ?? '')}`;
}
