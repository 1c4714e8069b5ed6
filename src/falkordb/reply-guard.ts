// Bounds every reply the database sends before the client decodes it. @redis/client
// decodes RESP recursively, so a reply nested deep enough (a Cypher list of lists a
// thousand levels down is 40 characters of query) overflows its stack: the client then
// drops the command without settling it, and the caller waits out its timeout while
// the connection stays leased forever. And it holds a whole reply in memory before
// anyone can look at its size. A scanner here reads each reply first, without
// recursion or copies: a reply nested deeper than MAX_REPLY_DEPTH, or bigger than its
// command's byte limit, is replaced by an error reply for that command alone, and its
// remaining bytes are skipped, so the connection stays in step for the next command.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { RESP_TYPES, type TypeMapping as ClientTypeMapping } from '@redis/client';
import { GatewayError } from '../errors.js';

/** Deepest nesting of arrays, maps and sets in one reply (a FalkorDB row holding a node is about 8). */
export const MAX_REPLY_DEPTH = 128;

/** The typeMapping key a command's byte limit travels under (the decoder reads typeMapping per reply). */
const REPLY_BYTES = Symbol('maxReplyBytes');

/** Marks the error replies made here, so no text from the server can pass for one. */
const MARK = `GATEWAY-REPLY-GUARD-${randomBytes(6).toString('hex')}`;

interface TypeMapping {
  [type: number]: unknown;
  [REPLY_BYTES]?: number;
}

/** The @redis/client options for a command: integers as strings, and a byte limit on its reply. */
export function commandTypeMapping(options: { integersAsStrings?: boolean | undefined; maxReplyBytes?: number | undefined }): { typeMapping: ClientTypeMapping } | undefined {
  if (options.integersAsStrings !== true && options.maxReplyBytes === undefined) return undefined;
  const typeMapping: TypeMapping = options.integersAsStrings === true ? { [RESP_TYPES.NUMBER]: String } : {};
  if (options.maxReplyBytes !== undefined) typeMapping[REPLY_BYTES] = options.maxReplyBytes;
  return { typeMapping: typeMapping as ClientTypeMapping };
}

/** The gateway error for an error reply made here; undefined for any other error. */
export function replyGuardError(error: unknown): GatewayError | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string' || !message.startsWith(MARK)) return undefined;
  const [, kind, limit] = message.split(' ');
  if (kind === 'depth') {
    return new GatewayError(
      'RESULT_TOO_DEEP',
      `The result nests lists or maps more than ${limit} levels deep, which this gateway does not read. Return flatter values: unnest the list in the query (UNWIND, or reduce into a flat list), or return its parts.`,
      { limit: 'depth', max: String(limit) },
    );
  }
  return new GatewayError(
    'RESULT_TOO_LARGE',
    `The database's reply is larger than ${limit} bytes, the most this gateway reads for one query. Ask for less: add a LIMIT, return only the properties you need, or slice long lists (list[0..100]).`,
    { limit: 'reply_bytes', max: String(limit) },
  );
}

// Reading state, kept across the chunks of one connection.
const enum Step {
  Type,
  /** Reading a line whose content is not needed (simple strings, errors, numbers). */
  Line,
  /** Reading the length or count that follows $ ! = * ~ > %. */
  Length,
  /** Skipping the bytes of a blob and its CRLF. */
  Blob,
}

/** What follows each type byte: a line (0), a blob's length (1), an aggregate's count (2), a map's pair count (4). */
const LINE = 0;
const BLOB = 1;
const KIND = new Uint8Array(256);
for (const type of [RESP_TYPES.BLOB_STRING, RESP_TYPES.BLOB_ERROR, RESP_TYPES.VERBATIM_STRING]) KIND[type] = BLOB;
for (const type of [RESP_TYPES.ARRAY, RESP_TYPES.SET, RESP_TYPES.PUSH]) KIND[type] = 2;
KIND[RESP_TYPES.MAP] = 4;
const LF = 10;
const CR = 13;
const MINUS = 45;
const ZERO = 48;
/** The shortest RESP element (`_\r\n`, `+\r\n`). */
const MIN_ELEMENT_BYTES = 3;

interface Decoder {
  write(chunk: Buffer): void;
  reset(): void;
  getTypeMapping?: () => TypeMapping | undefined;
}

class ReplyScanner {
  #step = Step.Type;
  /** KIND of the current type byte. */
  #kind = 0;
  /** The length or count being read, and its sign. */
  #length = 0;
  #negative = false;
  #blobLeft = 0;
  /** Elements still to come in each open aggregate, outermost first. */
  #open: number[] = [];
  /** At the first byte of a reply (nothing of the current one read yet). */
  #atStart = true;
  #bytes = 0;
  #maxBytes = Infinity;
  /** The current reply broke a limit: its error was delivered, its bytes are being skipped. */
  #skipping = false;
  /** Why the current reply is refused, once it is. */
  #refusal: string | undefined;

  constructor(
    private readonly decoder: Decoder,
    private readonly pass: (chunk: Buffer) => void,
    private readonly resetDecoder: () => void,
  ) {}

  reset(): void {
    this.#step = Step.Type;
    this.#length = 0;
    this.#blobLeft = 0;
    this.#open = [];
    this.#atStart = true;
    this.#skipping = false;
    this.#refusal = undefined;
  }

  write(chunk: Buffer): void {
    let pos = 0;
    let passFrom = 0;
    while (pos < chunk.length) {
      if (this.#atStart) {
        // The replies before this one go to the decoder first, so the command it answers heads the queue.
        if (pos > passFrom) this.pass(chunk.subarray(passFrom, pos));
        passFrom = pos;
        this.#atStart = false;
        this.#bytes = 0;
        this.#maxBytes = this.#limitOfHead();
      }
      const [next, done] = this.#scan(chunk, pos);
      pos = next;
      this.#refuseIfOver(0);
      if (this.#refusal !== undefined && !this.#skipping) {
        this.#skipping = true;
        this.resetDecoder();
        this.pass(Buffer.from(`-${MARK} ${this.#refusal}\r\n`));
      }
      if (done) {
        if (this.#skipping) passFrom = pos;
        this.#skipping = false;
        this.#refusal = undefined;
        this.#atStart = true;
      }
    }
    if (!this.#skipping && passFrom < chunk.length) this.pass(chunk.subarray(passFrom));
  }

  #limitOfHead(): number {
    try {
      return this.decoder.getTypeMapping?.()?.[REPLY_BYTES] ?? Infinity;
    } catch {
      return Infinity; // no command waiting (a push message)
    }
  }

  /**
   * Reads from `pos` until the current reply ends, the chunk ends, or a limit breaks;
   * returns where it stopped and whether the reply ended there.
   */
  #scan(chunk: Buffer, from: number): [number, boolean] {
    const [end, done] = this.#read(chunk, from);
    this.#bytes += end - from;
    return [end, done];
  }

  #read(chunk: Buffer, from: number): [number, boolean] {
    let pos = from;
    while (pos < chunk.length) {
      switch (this.#step) {
        case Step.Type: {
          this.#kind = KIND[chunk[pos++]!]!;
          if (this.#kind === LINE) {
            this.#step = Step.Line;
          } else {
            this.#step = Step.Length;
            this.#length = 0;
            this.#negative = false;
          }
          break;
        }
        case Step.Line: {
          const lf = chunk.indexOf(LF, pos);
          if (lf === -1) return [chunk.length, false];
          pos = lf + 1;
          this.#step = Step.Type;
          if (this.#completeElement()) return [pos, true];
          break;
        }
        case Step.Length: {
          const byte = chunk[pos++]!;
          if (byte !== LF) {
            if (byte === MINUS) this.#negative = true;
            else if (byte !== CR) this.#length = this.#length * 10 + (byte - ZERO);
            break;
          }
          const n = this.#negative ? -this.#length : this.#length;
          this.#step = Step.Type;
          if (this.#kind === BLOB) {
            if (!(n >= 0)) {
              if (this.#completeElement()) return [pos, true];
              break;
            }
            this.#blobLeft = n + 2;
            this.#step = Step.Blob;
            // Refused before its bytes arrive.
            if (this.#refuseIfOver(pos - from + this.#blobLeft)) return [pos, false];
            break;
          }
          const elements = this.#kind === 4 ? 2 * n : n;
          if (!(elements > 0)) {
            if (this.#completeElement()) return [pos, true];
            break;
          }
          this.#open.push(elements);
          // The decoder allocates an array of the announced length at once: refused before it sees
          // a count more elements than the bytes left could hold (each takes at least 3 bytes).
          if (this.#refuseIfOver(pos - from + MIN_ELEMENT_BYTES * elements)) return [pos, false];
          if (this.#refusal === undefined && this.#open.length > MAX_REPLY_DEPTH) {
            this.#refusal = `depth ${MAX_REPLY_DEPTH}`;
            return [pos, false];
          }
          break;
        }
        case Step.Blob: {
          const take = Math.min(this.#blobLeft, chunk.length - pos);
          this.#blobLeft -= take;
          pos += take;
          if (this.#blobLeft > 0) return [pos, false];
          this.#step = Step.Type;
          if (this.#completeElement()) return [pos, true];
          break;
        }
      }
      if (this.#refusal !== undefined && !this.#skipping) return [pos, false];
    }
    return [pos, false];
  }

  /** Refuses the reply for its size if `more` bytes beyond those counted take it past its limit; true if this refused it. */
  #refuseIfOver(more: number): boolean {
    if (this.#refusal !== undefined || this.#bytes + more <= this.#maxBytes) return false;
    this.#refusal = `bytes ${this.#maxBytes}`;
    return true;
  }

  /** One element ended: closes the aggregates it completes; true when the whole reply ended. */
  #completeElement(): boolean {
    const open = this.#open;
    while (open.length > 0) {
      const last = open.length - 1;
      open[last]! -= 1;
      if (open[last]! > 0) return false;
      open.pop();
    }
    return true;
  }
}

const scanners = new WeakMap<Decoder, ReplyScanner>();

/** Puts the scanner in front of every @redis/client decoder in this process (once). */
function install(): void {
  const require = createRequire(import.meta.url);
  const decoderPath = require.resolve('@redis/client').replace(/index\.js$/, 'lib/RESP/decoder.js');
  const { Decoder } = require(decoderPath) as { Decoder: { prototype: Decoder & { [MARKED]?: true } } };
  const proto = Decoder.prototype;
  if (proto[MARKED] === true) return;
  const write = proto.write;
  const reset = proto.reset;
  const scannerOf = (decoder: Decoder): ReplyScanner => {
    let scanner = scanners.get(decoder);
    if (scanner === undefined) {
      scanner = new ReplyScanner(decoder, (chunk) => write.call(decoder, chunk), () => reset.call(decoder));
      scanners.set(decoder, scanner);
    }
    return scanner;
  };
  proto.write = function (this: Decoder, chunk: Buffer): void {
    scannerOf(this).write(chunk);
  };
  proto.reset = function (this: Decoder): void {
    scanners.get(this)?.reset();
    reset.call(this);
  };
  proto[MARKED] = true;
}

const MARKED = Symbol.for('falkordb-mcp-gateway.reply-guard');

install();
