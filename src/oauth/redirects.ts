// Which redirect URIs an OAuth client may register: the connector callbacks of
// the hosts people use, loopback addresses for desktop clients (RFC 8252 §7.3),
// and what the operator adds with OAUTH_REDIRECT_URIS. Anything else is
// refused at registration, so a client cannot send a sign-in to a site of its choosing.

export const BUILT_IN_REDIRECT_URIS = [
  'https://claude.ai/api/mcp/auth_callback',
  'https://claude.com/api/mcp/auth_callback',
  'https://chatgpt.com/connector_platform_oauth_redirect',
  'https://vscode.dev/redirect',
] as const;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True for http://127.0.0.1, http://localhost or http://[::1] on any port and path: a desktop client's own listener. */
export function isLoopbackRedirect(uri: URL): boolean {
  return uri.protocol === 'http:' && LOOPBACK_HOSTS.has(uri.hostname) && uri.username === '' && uri.password === '';
}

/** Whether `uri` may be a client's redirect URI; `extra` is OAUTH_REDIRECT_URIS (an entry ending in `*` is a prefix). */
export function isAllowedRedirect(uri: string, extra: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return false;
  }
  if (parsed.hash !== '') return false;
  if (isLoopbackRedirect(parsed)) return true;
  if ((BUILT_IN_REDIRECT_URIS as readonly string[]).includes(uri)) return true;
  return extra.some((entry) => (entry.endsWith('*') ? uri.startsWith(entry.slice(0, -1)) : uri === entry));
}
