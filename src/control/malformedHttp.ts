import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from './apiError.js';

/** A connection-level failure as Node reports it on the server's `clientError` event. */
export type ClientError = Error & { code?: string };

/** Node's parser and timeout codes, as the API names them. */
function toApiError(error: ClientError): ApiError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'headers_too_large', 'the request headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'request_timeout', 'the request did not arrive in time');
    default:
      return new ApiError(
        400,
        'malformed_request',
        `the request is not valid HTTP/1.1 (${error.code ?? 'unknown'})`,
      );
  }
}

function rawResponse(error: ApiError): string {
  const body = JSON.stringify(error.toBody());
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers a request Node could not parse (both Content-Length and Transfer-Encoding, a bad
 * header, too many header bytes, a request that never finished arriving). No request object
 * exists at that point, so the answer is written to the socket by hand, in the API's error shape,
 * and the connection is closed: after a framing error nothing more on it can be trusted.
 */
export function answerClientError(error: ClientError, socket: Socket): void {
  // A reset peer, or a socket already gone, has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way on this socket cannot be followed by another one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(rawResponse(toApiError(error)));
}
