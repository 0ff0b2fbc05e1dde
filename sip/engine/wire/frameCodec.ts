/**
 * Framing of the drachtio wire protocol: `<length>#<body>`.
 *
 * `<length>` is the number of UTF-8 *bytes* of `<body>`, i.e. everything after `#`. That is what
 * drachtio-srf 5.0.x does on both sides: `WireProtocol#send` writes `Buffer.byteLength(s, 'utf8')`,
 * and `WireProtocol#_onData` slices `messageSize` bytes out of a Buffer. (The C++ server counts UTF-8
 * characters when it sends, which srf 5 would mis-frame on a multi-byte SIP header; we follow srf.)
 */

/** drachtio-server reads at most five length digits, so no frame from an app may exceed this. */
export const DEFAULT_MAX_FRAME_BYTES = 99_999;

const HASH = 0x23; // '#'
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export class WireFrameError extends Error {
  override readonly name = 'WireFrameError';
}

/** Frame one message body for the wire. */
export function encodeFrame(body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`${payload.length}#`, 'ascii'), payload]);
}

/**
 * Streaming decoder for one connection. Feed it socket chunks in order; it returns every complete
 * message body (decoded as UTF-8) and keeps the remainder. A malformed length prefix throws a
 * WireFrameError, after which the decoder must be discarded (the stream position is lost, so the
 * connection has to be closed, as drachtio-server does).
 */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly maxDigits: number;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    this.maxDigits = String(maxFrameBytes).length;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const bodies: string[] = [];
    let offset = 0;
    for (;;) {
      const header = this.readLengthPrefix(offset);
      if (header === undefined) break;
      const start = header.hashAt + 1;
      const end = start + header.length;
      if (end > this.buffer.length) break;
      bodies.push(this.buffer.toString('utf8', start, end));
      offset = end;
    }
    // Copy the tail so a large chunk is not kept alive by a small unfinished frame.
    this.buffer = offset === 0 ? this.buffer : Buffer.from(this.buffer.subarray(offset));
    return bodies;
  }

  /** Parses `<digits>#` at offset; undefined when more bytes are needed. */
  private readLengthPrefix(offset: number): { length: number; hashAt: number } | undefined {
    let length = 0;
    let digits = 0;
    for (let i = offset; i < this.buffer.length; i++) {
      const byte = this.buffer[i] as number;
      if (byte === HASH) {
        if (digits === 0) throw new WireFrameError('frame has no length before #');
        if (length === 0) throw new WireFrameError('frame length is zero');
        if (length > this.maxFrameBytes) {
          throw new WireFrameError(`frame length ${length} exceeds ${this.maxFrameBytes} bytes`);
        }
        return { length, hashAt: i };
      }
      if (byte < DIGIT_0 || byte > DIGIT_9) {
        throw new WireFrameError(`invalid byte 0x${byte.toString(16)} in frame length`);
      }
      digits++;
      if (digits > this.maxDigits) throw new WireFrameError('frame length has too many digits');
      length = length * 10 + (byte - DIGIT_0);
    }
    return undefined;
  }
}
