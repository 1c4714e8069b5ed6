// Host and URL helpers that read the configuration.

import type { Config } from './types.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The base URL clients reach the gateway at. */
export function publicBaseUrl(config: Config, boundPort?: number): string {
  if (config.http.publicUrl !== undefined) return config.http.publicUrl;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const scheme = config.network.tlsCertFile === undefined ? 'http' : 'https';
  return `${scheme}://${host}:${boundPort ?? config.http.port}`;
}
