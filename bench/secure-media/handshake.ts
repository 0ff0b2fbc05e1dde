/**
 * What DTLS-SRTP keying costs a call: a certificate (once per worker), then per call one DTLS
 * handshake as the client (our role toward WhatsApp) over loopback UDP, against our own server.
 * Prints wall time per handshake and CPU per side; not part of `npm test`.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist/bench/secure-media/handshake.js
 *
 * env: HANDSHAKES (default 50).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createDtlsCertificate } from '../../src/media/dtls/dtlsCertificate.js';
import { DtlsSrtpHandshake } from '../../src/media/dtls/dtlsSrtpHandshake.js';
import type { DtlsCertificate, DtlsRole } from '../../src/media/dtls/dtlsTypes.js';
import type { SrtpKeys } from '../../src/media/srtp/srtpTypes.js';

const HANDSHAKES = Number(process.env.HANDSHAKES ?? 50);

async function socket(): Promise<Socket> {
  const udp = createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  return udp;
}

function side(
  role: DtlsRole,
  mine: DtlsCertificate,
  theirs: DtlsCertificate,
  from: Socket,
  to: Socket,
): { handshake: DtlsSrtpHandshake; keys: Promise<SrtpKeys> } {
  const handshake = new DtlsSrtpHandshake({
    role,
    certificate: mine,
    remoteFingerprints: [theirs.fingerprint],
    send: (data) => from.send(data, to.address().port, '127.0.0.1'),
  });
  from.on('message', (data) => handshake.handle(data));
  const keys = new Promise<SrtpKeys>((resolve, reject) => {
    handshake.once('keys', resolve);
    handshake.once('failed', (message) => reject(new Error(message)));
  });
  return { handshake, keys };
}

async function main(): Promise<void> {
  let started = performance.now();
  const certificates = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
  const certificateMs = (performance.now() - started) / 2;
  const [clientCert, serverCert] = certificates;
  const wall: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < HANDSHAKES; index++) {
    const [a, b] = [await socket(), await socket()];
    const server = side('server', serverCert, clientCert, b, a);
    const client = side('client', clientCert, serverCert, a, b);
    started = performance.now();
    client.handshake.start();
    await Promise.all([client.keys, server.keys]);
    wall.push(performance.now() - started);
    client.handshake.close();
    server.handshake.close();
    a.close();
    b.close();
  }
  const cpu = process.cpuUsage(cpuBefore);
  wall.sort((x, y) => x - y);
  const cpuMsPerHandshake = (cpu.user + cpu.system) / 1000 / HANDSHAKES;
  const result = {
    handshakes: HANDSHAKES,
    certificateMs: Math.round(certificateMs * 10) / 10,
    wallMsMedian: Math.round((wall[Math.floor(wall.length / 2)] ?? 0) * 10) / 10,
    wallMsP95: Math.round((wall[Math.floor(wall.length * 0.95)] ?? 0) * 10) / 10,
    // Both sides ran in this process: a gateway pays about half.
    cpuMsPerHandshakeBothSides: Math.round(cpuMsPerHandshake * 10) / 10,
  };
  console.log(JSON.stringify(result, null, 2));
}

await main();
