import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nextClusterScanCursor, parseClusterScanCursor, routingKey } from './cluster-routing.js';

describe('routingKey', () => {
  it('routes by the key a command names', () => {
    assert.equal(routingKey(['GRAPH.QUERY', 'acme_g', 'RETURN 1']), 'acme_g');
    assert.equal(routingKey(['GRAPH.DELETE', 'acme_g']), 'acme_g');
    assert.equal(routingKey(['GRAPH.EXPLAIN', 'acme_g', 'MATCH (n) RETURN n']), 'acme_g');
    assert.equal(routingKey(['GET', 'gw:tenant:{acme}']), 'gw:tenant:{acme}');
  });

  it('routes a script by its first key, and one without keys anywhere', () => {
    assert.equal(routingKey(['EVAL', 'return 1', '1', 'gw:rate:acme', '5']), 'gw:rate:acme');
    assert.equal(routingKey(['evalsha', 'abc', '2', 'k1', 'k2']), 'k1');
    assert.equal(routingKey(['EVAL', 'return 1', '0', 'arg']), undefined);
  });

  it('routes a command whose key follows a subcommand by that key', () => {
    assert.equal(routingKey(['GRAPH.CONSTRAINT', 'CREATE', 'acme_g', 'UNIQUE', 'NODE', 'P', 'PROPERTIES', '1', 'id']), 'acme_g');
    assert.equal(routingKey(['GRAPH.CONSTRAINT', 'DROP', 'acme_g', 'MANDATORY', 'NODE', 'P', 'PROPERTIES', '1', 'id']), 'acme_g');
    assert.equal(routingKey(['GRAPH.MEMORY', 'USAGE', 'acme_g']), 'acme_g');
  });

  it('routes a stream read by its first stream', () => {
    assert.equal(routingKey(['XREAD', 'COUNT', '5', 'STREAMS', 'gw:audit:a', '0']), 'gw:audit:a');
  });

  it('sends keyless commands to any node', () => {
    for (const args of [['PING'], ['MODULE', 'LIST'], ['SCAN', '0'], ['GRAPH.LIST'], ['INFO', 'server'], ['CLUSTER', 'INFO']]) assert.equal(routingKey(args), undefined, args.join(' '));
  });
});

describe('cluster SCAN cursors', () => {
  it('walks every primary in turn and ends with 0', () => {
    const primaries = 3;
    // Each primary answers a first page (cursor 7) and then its last (0).
    const seen: string[] = [];
    let cursor = '0';
    do {
      const at = parseClusterScanCursor(cursor)!;
      const next = at.cursor === '0' ? '7' : '0';
      seen.push(`${at.primary}:${at.cursor}`);
      cursor = nextClusterScanCursor(at.primary, next, primaries);
    } while (cursor !== '0');
    assert.deepEqual(seen, ['0:0', '0:7', '1:0', '1:7', '2:0', '2:7']);
  });

  it('refuses a cursor it did not hand out', () => {
    assert.equal(parseClusterScanCursor('x-1'), undefined);
    assert.equal(parseClusterScanCursor('1-2-3'), undefined);
    assert.deepEqual(parseClusterScanCursor('2-0'), { primary: 2, cursor: '0' });
  });
});
