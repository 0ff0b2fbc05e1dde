import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The parsed body, when it is JSON. */
  json: any;
}

/** The first whole response in `bytes`, and how many bytes it took; undefined until whole. */
function parse(bytes: Buffer): { response: RawResponse; length: number } | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const bodyLength = Number(headers['content-length'] ?? Number.NaN);
  if (Number.isNaN(bodyLength) || bytes.length < end + 4 + bodyLength) return undefined;
  const body = bytes.subarray(end + 4, end + 4 + bodyLength).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return {
    response: { status: Number(statusLine.split(' ')[1]), headers, body, json },
    length: end + 4 + bodyLength,
  };
}

/**
 * One TCP connection to the server at `baseUrl` that sends bytes as given (malformed or pipelined
 * HTTP included, a request in pieces) and reads responses as soon as each is whole: the socket may
 * stay open, e.g. when a request announced a body it never sends.
 */
export class RawConnection {
  private readonly socket: Socket;
  private readonly received: RawResponse[] = [];
  private pending = Buffer.alloc(0);
  private closed = false;
  private wake = (): void => {};

  constructor(baseUrl: string) {
    const { hostname, port } = new URL(baseUrl);
    this.socket = connect(Number(port), hostname);
    this.socket.on('data', (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      for (let next = parse(this.pending); next; next = parse(this.pending)) {
        this.received.push(next.response);
        this.pending = this.pending.subarray(next.length);
      }
      this.wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  send(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The first `count` responses; rejects if they are not all whole within `timeoutMs`. */
  async responses(count: number, timeoutMs = 2000): Promise<RawResponse[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (this.closed)
        throw new Error(`connection closed after ${this.received.length} of ${count} responses`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.received.length} of ${count} responses within ${timeoutMs} ms; then ${JSON.stringify(this.pending.toString())}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.received.slice(0, count);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The first response to `request`, sent on a connection of its own; see RawConnection. */
export async function rawRequest(baseUrl: string, request: string, timeoutMs = 2000): Promise<RawResponse> {
  const connection = new RawConnection(baseUrl);
  try {
    connection.send(request);
    const [response] = await connection.responses(1, timeoutMs);
    if (!response) throw new Error('no response');
    return response;
  } finally {
    connection.close();
  }
}

/** Request head lines joined as HTTP wants them, ending in the blank line. */
export function head(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}
