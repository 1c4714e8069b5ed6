// Reads a request body with a size limit, before any other work is done.

import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', `The request body is larger than ${limitBytes} bytes.`);
}

/**
 * The body as text. Read with 'data' and 'end' listeners rather than `for await`:
 * this runs on every call, and an async iterator per request costs more than the
 * rest of the reading. Past the limit, reading stops and the rest is discarded.
 */
export function readTextBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        finish();
        // Drain what is left, so that the refusal can still be written on this connection.
        req.resume();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      finish();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      finish();
      reject(error);
    };
    // 'close' before 'end': the client went away mid-body.
    const onClose = () => {
      if (!req.complete) onError(new Error('the client closed the connection before the body was complete'));
    };
    function finish(): void {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const text = await readTextBody(req, limitBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError('REQUEST_INVALID', 'The request body is not valid JSON.');
  }
}
