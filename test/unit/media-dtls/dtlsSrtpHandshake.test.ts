import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDtlsCertificate } from '../../../src/media/dtls/dtlsCertificate.js';
import {
  DtlsSrtpHandshake,
  type DtlsSrtpHandshakeOptions,
} from '../../../src/media/dtls/dtlsSrtpHandshake.js';
import type { DtlsCertificate } from '../../../src/media/dtls/dtlsTypes.js';
import { SrtpTransform } from '../../../src/media/srtp/srtpTransform.js';
import type { SrtpKeys } from '../../../src/media/srtp/srtpTypes.js';

let clientCert: DtlsCertificate;
let serverCert: DtlsCertificate;
const cleanup: (() => void)[] = [];

beforeAll(async () => {
  [clientCert, serverCert] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
});

afterEach(() => {
  while (cleanup.length > 0) cleanup.pop()?.();
});

async function udpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  cleanup.push(() => socket.close());
  return socket;
}

/** One end of a handshake on its own UDP socket, sending to the other's. */
function end(
  socket: Socket,
  peer: Socket,
  options: Omit<DtlsSrtpHandshakeOptions, 'send'>,
  drop: (index: number) => boolean = () => false,
): DtlsSrtpHandshake {
  let sent = 0;
  const handshake = new DtlsSrtpHandshake({
    ...options,
    send: (data) => {
      if (drop(sent++)) return;
      socket.send(data, peer.address().port, '127.0.0.1');
    },
  });
  socket.on('message', (data) => handshake.handle(data));
  cleanup.push(() => handshake.close());
  return handshake;
}

function rtp(sequence: number): Buffer {
  const packet = Buffer.alloc(12 + 160, 0x55);
  packet[0] = 0x80;
  packet.writeUInt16BE(sequence, 2);
  packet.writeUInt32BE(160 * sequence, 4);
  packet.writeUInt32BE(0x1234abcd, 8);
  return packet;
}

async function pair(
  suites?: DtlsSrtpHandshakeOptions['suites'],
  drop?: (index: number) => boolean,
): Promise<{ client: DtlsSrtpHandshake; server: DtlsSrtpHandshake }> {
  const [a, b] = [await udpSocket(), await udpSocket()];
  const server = end(b, a, {
    role: 'server',
    certificate: serverCert,
    remoteFingerprints: [clientCert.fingerprint],
    ...(suites ? { suites } : {}),
  });
  const client = end(
    a,
    b,
    {
      role: 'client',
      certificate: clientCert,
      remoteFingerprints: [serverCert.fingerprint],
      ...(suites ? { suites } : {}),
    },
    drop,
  );
  return { client, server };
}

function keysOf(handshake: DtlsSrtpHandshake): Promise<SrtpKeys> {
  return new Promise((resolve, reject) => {
    handshake.once('keys', resolve);
    handshake.once('failed', (message) => reject(new Error(message)));
  });
}

describe('DTLS-SRTP handshake', () => {
  it('agrees AES_CM_128_HMAC_SHA1_80 keys that protect on one side and open on the other', async () => {
    const { client, server } = await pair();
    const keys = Promise.all([keysOf(client), keysOf(server)]);
    client.start();
    const [ofClient, ofServer] = await keys;
    expect(ofClient.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(ofClient.local.length).toBe(30);
    expect(ofClient.local.equals(ofServer.remote)).toBe(true);
    expect(ofClient.remote.equals(ofServer.local)).toBe(true);
    expect(ofClient.local.equals(ofClient.remote)).toBe(false);
    const sealed = new SrtpTransform(ofClient).protectRtp(rtp(1));
    const opened = new SrtpTransform(ofServer).unprotectRtp(sealed);
    expect(opened.ok && opened.packet.equals(rtp(1))).toBe(true);
  });

  it('agrees AEAD_AES_128_GCM when that is all both sides take', async () => {
    const { client, server } = await pair(['AEAD_AES_128_GCM']);
    const keys = Promise.all([keysOf(client), keysOf(server)]);
    client.start();
    const [ofClient, ofServer] = await keys;
    expect(ofClient.suite).toBe('AEAD_AES_128_GCM');
    expect(ofClient.local.length).toBe(28);
    const sealed = new SrtpTransform(ofServer).protectRtp(rtp(7));
    const opened = new SrtpTransform(ofClient).unprotectRtp(sealed);
    expect(opened.ok && opened.packet.equals(rtp(7))).toBe(true);
  });

  it('yields no keys when the peer certificate is not the one its SDP named', async () => {
    const [a, b] = [await udpSocket(), await udpSocket()];
    const stranger = await createDtlsCertificate();
    end(b, a, { role: 'server', certificate: serverCert, remoteFingerprints: [clientCert.fingerprint] });
    const client = end(a, b, {
      role: 'client',
      certificate: clientCert,
      remoteFingerprints: [stranger.fingerprint],
    });
    let keyed = false;
    client.on('keys', () => {
      keyed = true;
    });
    const failed = once(client, 'failed');
    client.start();
    const [message] = (await failed) as [string];
    expect(message).toMatch(/does not match the fingerprint/);
    expect(keyed).toBe(false);
    expect(client.keys).toBeNull();
  });

  it('fails when the peer never answers', async () => {
    const [a, b] = [await udpSocket(), await udpSocket()];
    const client = end(a, b, {
      role: 'client',
      certificate: clientCert,
      remoteFingerprints: [serverCert.fingerprint],
      timeoutMs: 300,
    });
    const failed = once(client, 'failed');
    client.start();
    const [message] = (await failed) as [string];
    expect(message).toMatch(/no DTLS handshake within 300 ms/);
  });

  it('completes when the first ClientHello is lost (werift retransmits the flight)', async () => {
    const { client, server } = await pair(undefined, (index) => index === 0);
    const keys = Promise.all([keysOf(client), keysOf(server)]);
    client.start();
    const [ofClient, ofServer] = await keys;
    expect(ofClient.local.equals(ofServer.remote)).toBe(true);
  });
});
