import { once } from 'node:events';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamFramer } from '../../../sip/engine/message/streamFramer.js';
import { testCertificate } from '../../support/testCertificate.js';
import { WhatsAppSipEdge } from '../../support/whatsappSipEdge.js';

/** The Meta SIP edge stand-in itself: its TLS rules and the methods it refuses, as Meta's edge. */
let edge: WhatsAppSipEdge;

beforeAll(async () => {
  edge = await WhatsAppSipEdge.start({
    numbers: [{ number: '+15550100', password: 'secret', sipHostname: 'gw.test' }],
    digestAlgorithm: 'SHA-256',
    user: { host: '127.0.0.1', port: 9 },
    gateway: { host: '127.0.0.1', port: 9 },
    certificate: testCertificate('wa.meta.test'),
  });
});

afterAll(async () => {
  await edge.stop();
});

async function send(text: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port: edge.tlsPort, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const framer = new StreamFramer();
  const reply = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) if (item.type === 'message') resolve(item.data.toString());
    });
  });
  socket.write(text);
  const answer = await reply;
  socket.destroy();
  return answer;
}

function request(method: string, extra: string[] = []): string {
  return [
    `${method} sip:+15550100@127.0.0.1 SIP/2.0`,
    'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtest1',
    'Max-Forwards: 70',
    'From: <sip:+15550100@gw.test>;tag=a',
    'To: <sip:+447700900123@wa.meta.vc>',
    'Call-ID: edge-test',
    `CSeq: 1 ${method}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('the Meta SIP edge stand-in', () => {
  it('aborts a TLS handshake offering ALPN sip, and takes one offering none', async () => {
    const withAlpn = connect({
      host: '127.0.0.1',
      port: edge.tlsPort,
      rejectUnauthorized: false,
      ALPNProtocols: ['sip'],
    });
    const [error] = (await once(withAlpn, 'error')) as [Error];
    expect(error.message).toMatch(/no application protocol|alert number 120/i);
    const plain = connect({ host: '127.0.0.1', port: edge.tlsPort, rejectUnauthorized: false });
    await once(plain, 'secureConnect');
    plain.destroy();
  });

  it('challenges an INVITE with 407, SHA-256, qop=auth, realm wa.meta.vc', async () => {
    const reply = await send(request('INVITE'));
    expect(reply).toMatch(/^SIP\/2\.0 407/);
    expect(reply).toMatch(
      /Proxy-Authenticate: Digest realm="wa\.meta\.vc", nonce="\w+", qop="auth", algorithm=SHA-256/,
    );
  });

  it('refuses INFO and UPDATE with 405 and Meta’s Allow list', async () => {
    for (const method of ['INFO', 'UPDATE']) {
      const reply = await send(request(method));
      expect(reply).toMatch(/^SIP\/2\.0 405/);
      expect(reply).toContain('Allow: INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS');
    }
  });
});
