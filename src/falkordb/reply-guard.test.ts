// The reply scanner in front of @redis/client's own decoder: replies within the limits
// come out as the decoder alone would give them, in any chunking; one beyond a limit
// becomes an error for its command alone, and the replies after it stay in step.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { commandTypeMapping, MAX_REPLY_DEPTH, replyGuardError } from './reply-guard.js';

const require = createRequire(import.meta.url);
const { Decoder } = require(require.resolve('@redis/client').replace(/index\.js$/, 'lib/RESP/decoder.js')) as {
  Decoder: new (config: Record<string, unknown>) => { write(chunk: Buffer): void; reset(): void };
};

type Outcome = { reply: unknown } | { error: string };

/** A decoder as one connection has it, with a queue of commands each carrying its type mapping. */
function connection(mappings: Array<Record<PropertyKey, unknown>>) {
  const outcomes: Outcome[] = [];
  const decoder = new Decoder({
    onReply: (reply: unknown) => outcomes.push({ reply }),
    onErrorReply: (error: Error) => outcomes.push({ error: error.message }),
    onPush: () => {},
    getTypeMapping: () => mappings[outcomes.length] ?? {},
  });
  return { decoder, outcomes };
}

const nested = (levels: number): string => '*1\r\n'.repeat(levels) + ':1\r\n';
const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const array = (items: string[]): string => `*${items.length}\r\n${items.join('')}`;

/** Feeds `stream` in pieces cut at `cuts` (sorted offsets). */
function feed(decoder: { write(chunk: Buffer): void }, stream: Buffer, cuts: number[]): void {
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut > from) decoder.write(stream.subarray(from, cut));
    from = Math.max(from, cut);
  }
}

const limited = commandTypeMapping({ maxReplyBytes: 200 })!.typeMapping as Record<PropertyKey, unknown>;
const stream = Buffer.from(
  [
    array([bulk('first'), ':7\r\n', '$-1\r\n', '*0\r\n', '+OK\r\n']),
    nested(MAX_REPLY_DEPTH + 50),
    '-ERR a server error\r\n',
    array(Array.from({ length: 40 }, (_, i) => bulk(`row ${i} ${'x'.repeat(20)}`))),
    nested(MAX_REPLY_DEPTH - 1),
    bulk('y'.repeat(500)),
    array([bulk('last')]),
  ].join(''),
);
// Commands 4 and 6 (0-based 3 and 5) carry a 200-byte limit.
const mappings = [{}, {}, {}, limited, {}, limited, limited];

function check(outcomes: Outcome[]): void {
  assert.equal(outcomes.length, 7);
  assert.deepEqual(outcomes[0], { reply: ['first', 7, null, [], 'OK'] });
  assert.equal(replyGuardError(new Error((outcomes[1] as { error: string }).error))?.code, 'RESULT_TOO_DEEP');
  assert.deepEqual(outcomes[2], { error: 'ERR a server error' });
  assert.equal(replyGuardError(new Error((outcomes[3] as { error: string }).error))?.code, 'RESULT_TOO_LARGE');
  let value = (outcomes[4] as { reply: unknown }).reply;
  for (let level = 1; level < MAX_REPLY_DEPTH; level++) value = (value as unknown[])[0];
  assert.equal(value, 1);
  assert.equal(replyGuardError(new Error((outcomes[5] as { error: string }).error))?.code, 'RESULT_TOO_LARGE');
  assert.deepEqual(outcomes[6], { reply: ['last'] });
}

test('replies beyond the depth or byte limit fail alone, whole chunks at once', () => {
  const { decoder, outcomes } = connection(mappings);
  feed(decoder, stream, []);
  check(outcomes);
});

test('replies beyond the depth or byte limit fail alone, one byte at a time', () => {
  const { decoder, outcomes } = connection(mappings);
  feed(decoder, stream, Array.from({ length: stream.length }, (_, i) => i));
  check(outcomes);
});

test('replies beyond the depth or byte limit fail alone, at random cuts', () => {
  for (let run = 0; run < 200; run++) {
    const cuts = Array.from({ length: 1 + Math.floor(Math.random() * 12) }, () => Math.floor(Math.random() * stream.length)).sort((a, b) => a - b);
    const { decoder, outcomes } = connection(mappings);
    feed(decoder, stream, cuts);
    assert.doesNotThrow(() => check(outcomes), `cuts ${cuts.join(',')}`);
  }
});

test('a reply nested ten thousand levels is refused without overflowing the stack', () => {
  const { decoder, outcomes } = connection([{}, {}]);
  feed(decoder, Buffer.from(nested(10_000) + bulk('after')), [7, 30_001]);
  assert.equal(replyGuardError(new Error((outcomes[0] as { error: string }).error))?.message.includes(String(MAX_REPLY_DEPTH)), true);
  assert.deepEqual(outcomes[1], { reply: 'after' });
});

test('a count announcing more elements than the byte limit can hold is refused as soon as it arrives', () => {
  const { decoder, outcomes } = connection([limited]);
  // The announced length alone would be a 40 MB array in the decoder; the reply's elements have not come yet.
  feed(decoder, Buffer.from('*5000000\r\n:1\r\n'), []);
  assert.equal(outcomes.length, 1);
  assert.equal(replyGuardError(new Error((outcomes[0] as { error: string }).error))?.code, 'RESULT_TOO_LARGE');
});

test('only the guard\'s own error replies are read as its refusals', () => {
  assert.equal(replyGuardError(new Error('GATEWAY-REPLY-GUARD depth 128')), undefined);
  assert.equal(replyGuardError(new Error('ERR depth 1')), undefined);
  assert.equal(replyGuardError('text'), undefined);
});
