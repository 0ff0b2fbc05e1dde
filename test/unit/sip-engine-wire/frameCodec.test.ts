import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, WireFrameError } from '../../../sip/engine/wire/frameCodec.js';

describe('encodeFrame', () => {
  it('prefixes the body with its byte length', () => {
    expect(encodeFrame('abc|ping').toString()).toBe('8#abc|ping');
  });

  it('counts UTF-8 bytes, not characters, as drachtio-srf does', () => {
    const body = 'id|sip|x\r\nFrom: "Zoë 😀" <sip:a@b>';
    const frame = encodeFrame(body);
    const [len] = frame.toString('utf8').split('#');
    expect(Number(len)).toBe(Buffer.byteLength(body, 'utf8'));
    expect(Number(len)).toBeGreaterThan(body.length);
  });
});

describe('FrameDecoder', () => {
  it('round-trips several messages in one chunk', () => {
    const bodies = ['a|ping', 'b|route|invite', 'c|sip||\r\nINVITE sip:x SIP/2.0\r\n\r\n'];
    const chunk = Buffer.concat(bodies.map(encodeFrame));
    expect(new FrameDecoder().push(chunk)).toEqual(bodies);
  });

  it('reassembles a message delivered one byte at a time, including multi-byte characters', () => {
    const body = 'id|sip|txn|\r\nMESSAGE sip:x SIP/2.0\r\nSubject: ¡hola! 😀 中文\r\n\r\n';
    const frame = encodeFrame(body);
    const decoder = new FrameDecoder();
    const out: string[] = [];
    for (const byte of frame) out.push(...decoder.push(Buffer.from([byte])));
    expect(out).toEqual([body]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('keeps a partial message (split inside the length, and inside the body) for the next chunk', () => {
    const first = encodeFrame('one|ping');
    const second = encodeFrame('two|route|bye');
    const all = Buffer.concat([first, second]);
    const decoder = new FrameDecoder();
    expect(decoder.push(all.subarray(0, first.length + 1))).toEqual(['one|ping']);
    expect(decoder.push(all.subarray(first.length + 1, first.length + 6))).toEqual([]);
    expect(decoder.push(all.subarray(first.length + 6))).toEqual(['two|route|bye']);
  });

  it.each([
    ['no digits', '#abc'],
    ['a letter in the length', '1a#abc'],
    ['zero length', '0#'],
    ['garbage', 'hello world'],
  ])('rejects %s', (_name, input) => {
    expect(() => new FrameDecoder().push(Buffer.from(input))).toThrow(WireFrameError);
  });

  it('rejects a length above the limit without waiting for the body', () => {
    expect(() => new FrameDecoder(100).push(Buffer.from('101#'))).toThrow(/exceeds/);
    expect(() => new FrameDecoder().push(Buffer.from('123456'))).toThrow(/too many digits/);
  });

  it('accepts the largest frame drachtio-server accepts (five digits)', () => {
    const body = `x|sip||\r\n${'a'.repeat(99_999 - 9)}`;
    expect(new FrameDecoder().push(encodeFrame(body))).toEqual([body]);
  });
});
