// A lean HTTP/1.1 keep-alive client for the load lanes: one socket, one request
// at a time, request bytes built by hand, replies read by Content-Length or
// chunked encoding. node:http's client costs about 150–300 µs of CPU per call on
// the benchmark machine (undici about 80–230 µs), which is more than the servers
// measured here spend; the load process shares the machine's cores with them, so
// every microsecond it spends is taken from the systems under test.

import net from 'node:net';
import type { PostReply } from './http-post.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

interface Pending {
  resolve: (reply: PostReply) => void;
  reject: (error: Error) => void;
}

export class RawHttpConnection {
  readonly #url: URL;
  #socket: net.Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;

  constructor(url: URL) {
    if (url.protocol !== 'http:') throw new Error(`RawHttpConnection speaks plain http only, not ${url.protocol}`);
    this.#url = url;
  }

  /** POSTs a JSON body to the connection's URL. */
  post(headers: Record<string, string>, body: string): Promise<PostReply> {
    return this.request('POST', headers, body);
  }

  request(method: string, headers: Record<string, string>, body = ''): Promise<PostReply> {
    if (this.#pending !== undefined) throw new Error('one request at a time on a RawHttpConnection');
    const bytes = Buffer.byteLength(body);
    let head = `${method} ${this.#url.pathname}${this.#url.search} HTTP/1.1\r\nHost: ${this.#url.host}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (body !== '' || method === 'POST') head += `Content-Type: application/json\r\nContent-Length: ${bytes}\r\n`;
    head += '\r\n';
    return new Promise<PostReply>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#connection().write(head + body);
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connection(): net.Socket {
    if (this.#socket !== undefined && !this.#socket.destroyed) return this.#socket;
    const socket = net.connect(Number(this.#url.port || 80), this.#url.hostname);
    socket.setNoDelay(true);
    this.#buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const fail = (error: Error) => {
      if (this.#socket === socket) this.#socket = undefined;
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
    this.#socket = socket;
    return socket;
  }

  #parse(): void {
    const buffer = this.#buffer;
    const headerEnd = buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const lines = buffer.subarray(0, headerEnd).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i]!.indexOf(':');
      if (colon > 0) headers[lines[i]!.slice(0, colon).trim().toLowerCase()] = lines[i]!.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + HEADER_END.length;
    let body: Buffer;
    let end: number;
    if (headers['content-length'] !== undefined) {
      end = bodyStart + Number(headers['content-length']);
      if (buffer.length < end) return;
      body = buffer.subarray(bodyStart, end);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = buffer.indexOf(CRLF, at);
        if (lineEnd < 0) return;
        const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
        if (size === 0) {
          // No trailers are expected: the last chunk is followed by an empty line.
          if (buffer.length < lineEnd + 4) return;
          end = lineEnd + 4;
          break;
        }
        if (buffer.length < lineEnd + 2 + size + 2) return;
        parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
      end = bodyStart;
    } else {
      const pending = this.#pending;
      this.#pending = undefined;
      this.close();
      pending?.reject(new Error(`a reply without Content-Length or chunked encoding (HTTP ${status})`));
      return;
    }
    this.#buffer = buffer.subarray(end);
    const pending = this.#pending;
    this.#pending = undefined;
    if (headers['connection']?.toLowerCase() === 'close') this.close();
    pending?.resolve({ status, headers, text: body.toString('utf8') });
  }
}
