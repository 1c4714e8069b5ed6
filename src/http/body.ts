// Reads a request body with a size limit, before any other work is done.

import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

export async function readTextBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new GatewayError('BODY_TOO_LARGE', `The request body is larger than ${limitBytes} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new GatewayError('BODY_TOO_LARGE', `The request body is larger than ${limitBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const text = await readTextBody(req, limitBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('REQUEST_INVALID', 'The request body is not valid JSON.');
  }
}
