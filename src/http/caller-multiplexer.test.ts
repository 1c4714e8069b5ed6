// The transport every stateless POST shares: callers' ids kept apart on the way
// in and given back on the way out, each message handed on with its own POST's
// extra info, and no reply left hanging when it closes. The server is played by the test.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONRPCMessage, JSONRPCRequest, MessageExtraInfo } from '@modelcontextprotocol/server';
import { CallerMultiplexer, isRequest } from './caller-multiplexer.js';

/** A multiplexer with a stand-in server that keeps every message it is handed. */
function withServer(): { mux: CallerMultiplexer; received: JSONRPCMessage[]; extras: Array<MessageExtraInfo | undefined> } {
  const mux = new CallerMultiplexer();
  const received: JSONRPCMessage[] = [];
  const extras: Array<MessageExtraInfo | undefined> = [];
  mux.onmessage = (message, extra) => {
    received.push(message);
    extras.push(extra);
  };
  return { mux, received, extras };
}

/** The extra info of one caller's POST, told apart by a header. */
const postOf = (who: string): MessageExtraInfo => ({ authInfo: { token: who, clientId: who, scopes: [] } });
/** JSON-RPC's connection-closed error: the request was not served, and may be sent again. */
const CONNECTION_CLOSED = -32000;
const ALICE = postOf('alice');
const BOB = postOf('bob');

const ping = (id: string | number): JSONRPCRequest => ({ jsonrpc: '2.0', id, method: 'ping' });

function answer(mux: CallerMultiplexer, message: JSONRPCMessage, result: Record<string, unknown>): Promise<void> {
  assert.ok(isRequest(message));
  return mux.send({ jsonrpc: '2.0', id: message.id, result });
}

describe('CallerMultiplexer', () => {
  it('hands the server ids of its own, so two callers using the same id never meet, and answers each under its own id', async () => {
    const { mux, received } = withServer();
    const alice = mux.deliver([ping(1)], ALICE);
    const bob = mux.deliver([ping(1)], BOB);
    assert.equal(received.length, 2);
    const [first, second] = received as JSONRPCRequest[];
    assert.notEqual(first?.id, second?.id);
    // Answered in the other order: each reply still finds its caller.
    await answer(mux, second!, { who: 'bob' });
    await answer(mux, first!, { who: 'alice' });
    assert.deepEqual(await alice, [{ jsonrpc: '2.0', id: 1, result: { who: 'alice' } }]);
    assert.deepEqual(await bob, [{ jsonrpc: '2.0', id: 1, result: { who: 'bob' } }]);
  });

  it("hands every message on with its own POST's extra info, however the POSTs interleave", async () => {
    const { mux, received, extras } = withServer();
    const alice = mux.deliver([ping('a'), { jsonrpc: '2.0', method: 'notifications/initialized' }], ALICE);
    const bob = mux.deliver([ping('a')], BOB);
    assert.deepEqual(extras, [ALICE, ALICE, BOB]);
    await answer(mux, received[2]!, {});
    await answer(mux, received[0]!, {});
    await Promise.all([alice, bob]);
  });

  it("answers a batch's requests in their order, whatever order the server answers them in", async () => {
    const { mux, received } = withServer();
    const replies = mux.deliver([ping('x'), ping('y')], ALICE);
    const [x, y] = received as JSONRPCRequest[];
    await answer(mux, y!, { n: 2 });
    await answer(mux, x!, { n: 1 });
    assert.deepEqual(
      (await replies).map((r) => [r.id, (r as { result: unknown }).result]),
      [
        ['x', { n: 1 }],
        ['y', { n: 2 }],
      ],
    );
  });

  it('passes notifications on, except cancellations, which could only name another POST\'s request', async () => {
    const { mux, received } = withServer();
    const replies = await mux.deliver(
      [
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
      ],
      ALICE,
    );
    assert.deepEqual(replies, []);
    assert.deepEqual(
      received.map((m) => ('method' in m ? m.method : undefined)),
      ['notifications/initialized'],
    );
  });

  it('drops what a caller sends as a response, and what the server sends that answers nothing', async () => {
    const { mux, received } = withServer();
    assert.deepEqual(await mux.deliver([{ jsonrpc: '2.0', id: 5, result: {} }], ALICE), []);
    assert.equal(received.length, 0);
    const reply = mux.deliver([ping(1)], ALICE);
    const inner = received[0] as JSONRPCRequest;
    // A progress notification and a reply to an id nobody waits for are dropped; the real reply still arrives.
    await mux.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    await mux.send({ jsonrpc: '2.0', id: 999, result: { stray: true } });
    await answer(mux, inner, { ok: true });
    assert.deepEqual(await reply, [{ jsonrpc: '2.0', id: 1, result: { ok: true } }]);
  });

  it('answers every request still waiting when it closes, under the caller\'s id, and closes once', async () => {
    const { mux } = withServer();
    let closes = 0;
    mux.onclose = () => (closes += 1);
    const waiting = mux.deliver([ping('a'), ping('b')], ALICE);
    await mux.close();
    await mux.close();
    const replies = await waiting;
    assert.deepEqual(
      replies.map((r) => r.id),
      ['a', 'b'],
    );
    for (const r of replies) assert.equal((r as { error: { code: number } }).error.code, CONNECTION_CLOSED);
    assert.equal(closes, 1);
  });

  it('answers a request delivered after it closed at once, without handing it to the server', async () => {
    const { mux, received } = withServer();
    await mux.close();
    const [reply] = await mux.deliver([ping(7)], ALICE);
    assert.equal(received.length, 0);
    assert.equal(reply?.id, 7);
    assert.equal((reply as { error: { code: number; message: string } }).error.code, CONNECTION_CLOSED);
  });

  it('answers at once while no server is connected yet', async () => {
    const mux = new CallerMultiplexer();
    const [reply] = await mux.deliver([ping(3)], ALICE);
    assert.equal((reply as { error: { code: number } }).error.code, CONNECTION_CLOSED);
  });
});
