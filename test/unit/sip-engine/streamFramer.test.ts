import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { StreamFramer } from '../../../sip/engine/message/streamFramer.js';
import { inviteLines, sipText } from './sipFixtures.js';

const withBody = sipText([...inviteLines(), 'Content-Length: 10'], '0123456789');
const noBody = sipText([...inviteLines({ CSeq: '2 INVITE' }), 'l: 0']);

describe('StreamFramer', () => {
  it('reassembles messages split at every byte boundary', () => {
    const stream = Buffer.concat([withBody, noBody]);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const f = new StreamFramer();
      const items = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
      expect(items.map((i) => i.type)).toEqual(['message', 'message']);
      const first = items[0];
      if (first?.type !== 'message') throw new Error('unreachable');
      expect(parseMessage(first.data).body.toString()).toBe('0123456789');
      expect(f.pending).toBe(0);
    }
  });

  it('delivers several messages from one chunk and holds a partial body', () => {
    const f = new StreamFramer();
    const items = f.push(Buffer.concat([noBody, noBody, withBody.subarray(0, withBody.length - 3)]));
    expect(items.map((i) => i.type)).toEqual(['message', 'message']);
    expect(f.pending).toBe(withBody.length - 3);
    expect(f.push(withBody.subarray(withBody.length - 3)).map((i) => i.type)).toEqual(['message']);
  });

  it('reports CRLFCRLF pings, also split, and drops lone CRLF keep-alives', () => {
    const f = new StreamFramer();
    expect(f.push(Buffer.from('\r\n'))).toEqual([]);
    expect(f.push(Buffer.from('\r\n'))).toEqual([{ type: 'ping' }]);
    const items = f.push(Buffer.concat([Buffer.from('\r\n'), noBody]));
    expect(items.map((i) => i.type)).toEqual(['message']);
  });

  it('fails on a missing or bad Content-Length and stays failed', () => {
    const f = new StreamFramer();
    const items = f.push(sipText(inviteLines()));
    expect(items).toHaveLength(1);
    expect(items[0]?.type === 'error' && items[0].error.reason).toBe('missing Content-Length');
    expect(f.push(noBody)).toEqual([]);
    const g = new StreamFramer();
    const bad = g.push(sipText([...inviteLines(), 'Content-Length: x']));
    expect(bad[0]?.type === 'error' && bad[0].error.reason).toBe('bad Content-Length');
    // The failed header section comes with the error, so the request can be answered with 400.
    expect(bad[0]?.type === 'error' && bad[0].head?.toString('latin1')).toMatch(
      /^INVITE [\s\S]*Content-Length: x/,
    );
  });

  it('fails when headers grow past the limit without a blank line', () => {
    const f = new StreamFramer({ maxHeaderBytes: 1024 });
    expect(f.push(Buffer.from(`INVITE sip:a@b SIP/2.0\r\nX: ${'a'.repeat(600)}\r\n`))).toEqual([]);
    const items = f.push(Buffer.from(`Y: ${'b'.repeat(600)}\r\n`));
    expect(items[0]?.type === 'error' && items[0].error.status).toBe(513);
    expect(items[0]?.type === 'error' && items[0].head?.length).toBe(1024);
  });

  it('refuses bodies over the limit', () => {
    const f = new StreamFramer({ maxBodyBytes: 100 });
    const items = f.push(sipText([...inviteLines(), 'Content-Length: 5000']));
    expect(items[0]?.type === 'error' && items[0].error.status).toBe(413);
  });
});

describe('StreamFramer on hostile input', () => {
  it('never throws on random bytes in random chunks', () => {
    let seed = 99;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 300; round++) {
      const f = new StreamFramer({ maxHeaderBytes: 2048, maxBodyBytes: 4096 });
      const base = Buffer.concat([withBody, noBody, Buffer.from('\r\n\r\n'), withBody]);
      for (let k = 0; k < round % 8; k++) base[rand() % base.length] = rand() & 0xff;
      let at = 0;
      while (at < base.length) {
        const n = 1 + (rand() % 64);
        for (const item of f.push(base.subarray(at, at + n)))
          expect(['message', 'ping', 'error']).toContain(item.type);
        at += n;
      }
    }
  });
});
