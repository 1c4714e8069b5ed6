// The resource URIs and the pages of resources/list.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pageAfter, parseResourceUri, schemaUri } from './resource-uri.js';

describe('parseResourceUri', () => {
  it('reads the graph list and a graph schema, and the graph name back from its URI', () => {
    assert.deepEqual(parseResourceUri('falkordb://graphs'), { kind: 'graphs' });
    assert.deepEqual(parseResourceUri('falkordb://graphs/movies/schema'), { kind: 'schema', graph: 'movies' });
    assert.deepEqual(parseResourceUri(schemaUri('a.b-c_d')), { kind: 'schema', graph: 'a.b-c_d' });
    assert.deepEqual(parseResourceUri('falkordb://graphs/bad%20name/schema'), { kind: 'schema', graph: 'bad name' });
  });

  it('is none of its resources for any other URI, or a name that does not decode', () => {
    for (const uri of ['test://static-text', 'falkordb://graphs/movies', 'falkordb://graphs//schema', 'falkordb://graphs/a/b/schema', 'falkordb://graphs/a/schema?x=1', 'falkordb://graphs/%E0%A4%A/schema']) {
      assert.equal(parseResourceUri(uri), undefined, uri);
    }
  });
});

describe('pageAfter', () => {
  const names = ['d', 'a', 'c', 'b', 'e'];

  it('gives sorted pages, each after the last name of the one before, the last without a cursor', () => {
    const first = pageAfter(names, undefined, 2)!;
    assert.deepEqual(first.page, ['a', 'b']);
    const second = pageAfter(names, first.nextCursor, 2)!;
    assert.deepEqual(second.page, ['c', 'd']);
    const third = pageAfter(names, second.nextCursor, 2)!;
    assert.deepEqual(third, { page: ['e'] });
    assert.deepEqual(pageAfter(names, undefined, 5), { page: ['a', 'b', 'c', 'd', 'e'] });
  });

  it('moves no name when a graph is deleted or created between two pages', () => {
    const first = pageAfter(names, undefined, 2)!;
    assert.deepEqual(pageAfter(['a', 'c', 'd', 'e', 'bb'], first.nextCursor, 2)!.page, ['bb', 'c']);
  });

  it('refuses a cursor it cannot have given', () => {
    for (const cursor of ['', 'not base64!', Buffer.from('before:a').toString('base64url'), Buffer.from('after:').toString('base64url'), 'x'.repeat(401)]) {
      assert.equal(pageAfter(names, cursor, 2), undefined, cursor);
    }
  });
});
