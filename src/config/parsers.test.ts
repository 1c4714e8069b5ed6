// The environment's parsers on their own, without loadConfig: what each
// accepts, what it yields, and the message that completes "VARIABLE (got …) …".

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { bool, cidrList, clusterSeeds, duration, headerName, integer, metricsTenantLabels, parseSentinelNode, ratePlans, replicaUrlList, trustProxy, upstreamIssuer } from './parsers.js';

/** The first issue's message of input the parser refuses. */
function refusal(parser: z.ZodType, input: string): string {
  const parsed = parser.safeParse(input);
  assert.equal(parsed.success, false, `expected ${JSON.stringify(input)} to be refused`);
  return parsed.error?.issues[0]?.message ?? '';
}

describe('integer', () => {
  it('reads a whole number within its bounds, spaces trimmed', () => {
    assert.equal(integer(0, 10).parse(' 7 '), 7);
  });

  it('refuses text, and numbers out of bounds by name', () => {
    assert.equal(refusal(integer(0, 10), '7.5'), 'must be a whole number');
    assert.equal(refusal(integer(0, 10), '-1'), 'must be a whole number');
    assert.equal(refusal(integer(1, 10), '0'), 'must be at least 1');
    assert.equal(refusal(integer(1, 10), '11'), 'must be at most 10');
  });
});

describe('bool', () => {
  it('reads true/false, 1/0 and yes/no in any case', () => {
    assert.deepEqual(['TRUE', '1', 'yes', 'false', '0', 'No'].map((v) => bool.parse(v)), [true, true, true, false, false, false]);
  });

  it('refuses anything else', () => {
    assert.equal(refusal(bool, 'on'), 'must be true or false');
  });
});

describe('duration', () => {
  it('reads seconds from a number or a unit', () => {
    assert.equal(duration(3600).parse('15m'), 900);
    assert.equal(duration(3600).parse('90'), 90);
  });

  it('refuses a duration over its cap, naming the cap', () => {
    assert.equal(refusal(duration(3600), '2h'), 'must be at most 1h');
  });

  it('refuses zero and text with the forms it takes', () => {
    assert.match(refusal(duration(3600), '0'), /^must be a duration above zero, such as /);
    assert.match(refusal(duration(3600), 'soon'), /^must be a duration above zero, such as /);
  });
});

describe('clusterSeeds', () => {
  it('reads comma-separated seeds, dropping empty entries', () => {
    assert.deepEqual(clusterSeeds.parse('redis://a:6379, redis://b:6379,'), ['redis://a:6379', 'redis://b:6379']);
  });

  it('names a bad seed by position and never quotes it', () => {
    const message = refusal(clusterSeeds, 'redis://:hunter2@a:6379,unix:/tmp/s');
    assert.match(message, /^has seed 2 of 2 with the scheme unix:/);
    assert.ok(!message.includes('hunter2'));
  });

  it('refuses seeds that disagree on the password', () => {
    assert.match(refusal(clusterSeeds, 'redis://:one@a:6379,redis://:two@b:6379'), /^has seed 2 of 2 with another scheme, user or password than seed 1/);
  });

  it('refuses a database number', () => {
    assert.match(refusal(clusterSeeds, 'redis://a:6379/2'), /only database 0/);
  });
});

describe('replicaUrlList', () => {
  it('names a bad entry by number, never by its value', () => {
    const message = refusal(replicaUrlList, 'redis://:secret@r1:6379,http://:secret@r2');
    assert.equal(message, 'has an entry (number 2) that is not a redis://host:port or rediss://host:port URL');
  });
});

describe('parseSentinelNode', () => {
  it('reads host:port, a bare host (port 26379) and a bracketed IPv6 address', () => {
    assert.deepEqual(parseSentinelNode('s1:26380'), { host: 's1', port: 26380 });
    assert.deepEqual(parseSentinelNode('s1'), { host: 's1', port: 26379 });
    assert.deepEqual(parseSentinelNode('[::1]:5000'), { host: '::1', port: 5000 });
  });

  it('refuses a port out of range', () => {
    assert.throws(() => parseSentinelNode('s1:70000'), /not host:port/);
  });
});

describe('cidrList', () => {
  it('quotes the entry that is not an address or range', () => {
    assert.equal(refusal(cidrList, '10.0.0.0/8,10.0.0.0/33'), 'has "10.0.0.0/33", which is not an IP address or CIDR range');
  });
});

describe('trustProxy', () => {
  it('reads false, a hop count, or CIDR ranges', () => {
    assert.equal(trustProxy.parse('no'), false);
    assert.equal(trustProxy.parse('2'), 2);
    assert.deepEqual(trustProxy.parse('10.0.0.0/8'), ['10.0.0.0/8']);
  });

  it('refuses more than 16 hops', () => {
    assert.equal(refusal(trustProxy, '17'), 'must be false, a number of proxy hops (1 to 16), or the proxies\' addresses as CIDR ranges');
  });
});

describe('upstreamIssuer', () => {
  it('takes https anywhere and http on loopback only, without a trailing slash', () => {
    assert.equal(upstreamIssuer.parse('https://idp.example.com/realms/staff/'), 'https://idp.example.com/realms/staff');
    assert.equal(upstreamIssuer.parse('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
    assert.equal(upstreamIssuer.parse('http://[::1]:8080'), 'http://[::1]:8080');
  });

  it('refuses http on another host', () => {
    assert.equal(refusal(upstreamIssuer, 'http://idp.example.com'), 'must be an https:// URL (http:// only on a loopback address)');
  });
});

describe('ratePlans', () => {
  it('reads plan=rate pairs', () => {
    assert.deepEqual(ratePlans.parse('free=60, pro=3000'), { free: 60, pro: 3000 });
  });

  it('quotes the pair it cannot read', () => {
    assert.equal(refusal(ratePlans, 'free=60,pro'), 'has "pro"; write plan=requests-per-minute pairs separated by commas');
  });
});

describe('metricsTenantLabels', () => {
  it('reads all, none and top:N', () => {
    assert.equal(metricsTenantLabels.parse('ALL'), 'all');
    assert.equal(metricsTenantLabels.parse('top:5'), 5);
  });

  it('refuses top:0', () => {
    assert.equal(refusal(metricsTenantLabels, 'top:0'), 'must be all, none or top:N (N above zero)');
  });
});

describe('headerName', () => {
  it('keeps an HTTP header name as written, spaces around it trimmed', () => {
    assert.equal(headerName.parse(' X-Gateway-Authorization '), 'X-Gateway-Authorization');
    assert.equal(headerName.parse('Authorization'), 'Authorization');
  });

  it('refuses what is no header name, and the headers read for something else', () => {
    assert.match(refusal(headerName, 'X Auth'), /^must be an HTTP header name/);
    assert.match(refusal(headerName, 'X-Auth:'), /^must be an HTTP header name/);
    assert.match(refusal(headerName, 'HOST'), /already reads for something else/);
  });
});
