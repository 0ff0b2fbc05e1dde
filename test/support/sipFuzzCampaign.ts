import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { StreamFramer } from '../../sip/engine/message/streamFramer.js';
import { type FuzzTarget, mutatedMessage, seededRandom } from './sipMutator.js';

export interface FuzzCampaignOptions {
  host: string;
  port: number;
  /** A number an app takes (INVITEs that still parse ring at the gateway). */
  number: string;
  /** Messages per transport. */
  perTransport: number;
  seed: number;
  /** TCP connections kept open at once (the server may close one on a framing error). */
  connections?: number;
}

export interface FuzzCounts {
  sent: { udp: number; tcp: number };
  /** Responses the server sent back, by status code (e.g. `400`), over both transports. */
  responses: Record<string, number>;
  /** TCP connections the server closed (a stream it could not frame any more) and we reopened. */
  tcpReconnects: number;
  /** Datagrams the kernel refused (over 64 KB). */
  udpSendErrors: number;
  /** Mutations applied, by name. */
  mutations: Record<string, number>;
  seconds: number;
}

const STATUS = /^SIP\/2\.0 (\d{3})/;
/** Datagrams sent between two 1 ms pauses. */
const UDP_BURST = 20;

function countResponse(counts: FuzzCounts, text: string): void {
  const status = STATUS.exec(text)?.[1];
  if (status) counts.responses[status] = (counts.responses[status] ?? 0) + 1;
}

/** Sends `perTransport` mutated messages over UDP and as many over TCP, both at once. */
export async function runFuzzCampaign(options: FuzzCampaignOptions): Promise<FuzzCounts> {
  const counts: FuzzCounts = {
    sent: { udp: 0, tcp: 0 },
    responses: {},
    tcpReconnects: 0,
    udpSendErrors: 0,
    mutations: {},
    seconds: 0,
  };
  const started = Date.now();
  const tally = (mutations: string[]) => {
    for (const name of mutations) counts.mutations[name] = (counts.mutations[name] ?? 0) + 1;
  };
  await Promise.all([udpCampaign(options, counts, tally), tcpCampaign(options, counts, tally)]);
  counts.seconds = (Date.now() - started) / 1000;
  return counts;
}

async function udpCampaign(
  options: FuzzCampaignOptions,
  counts: FuzzCounts,
  tally: (mutations: string[]) => void,
): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.on('message', (message) => countResponse(counts, message.toString('latin1', 0, 16)));
  const target: FuzzTarget = {
    host: options.host,
    port: options.port,
    number: options.number,
    transport: 'UDP',
    localPort: socket.address().port,
  };
  const random = seededRandom(options.seed);
  for (let i = 0; i < options.perTransport; i++) {
    const { bytes, mutations } = mutatedMessage(target, i, random);
    tally(mutations);
    await new Promise<void>((resolve) => {
      socket.send(bytes, options.port, options.host, (error) => {
        if (error) counts.udpSendErrors++;
        resolve();
      });
    });
    counts.sent.udp++;
    // A pause every few datagrams: a flood the kernel drops before the server reads it tests nothing.
    if (i % UDP_BURST === UDP_BURST - 1) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Late answers (a gateway's 486, 480 after the ring timeout) still count; a quiet socket is done.
  await quiet(socket, 'message', 1000);
  socket.close();
}

async function tcpCampaign(
  options: FuzzCampaignOptions,
  counts: FuzzCounts,
  tally: (mutations: string[]) => void,
): Promise<void> {
  const random = seededRandom(options.seed ^ 0x5eed);
  const connections = options.connections ?? 4;
  let next = 0;
  const open = async (): Promise<Socket> => {
    const socket = connect(options.port, options.host);
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const framer = new StreamFramer();
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const item of framer.push(chunk)) {
          if (item.type === 'message') countResponse(counts, item.data.toString('latin1', 0, 16));
        }
      } catch {
        // A response we cannot frame is not ours to judge here.
      }
    });
    return socket;
  };
  const worker = async (): Promise<void> => {
    let socket = await open();
    let lastData = Date.now();
    socket.on('data', () => {
      lastData = Date.now();
    });
    while (next < options.perTransport) {
      const n = next++;
      if (socket.destroyed || socket.writableEnded) {
        counts.tcpReconnects++;
        socket = await open();
      }
      const target: FuzzTarget = {
        host: options.host,
        port: options.port,
        number: options.number,
        transport: 'TCP',
        localPort: socket.localPort ?? 0,
      };
      const { bytes, mutations } = mutatedMessage(target, n, random);
      tally(mutations);
      // A message truncated or with a bad Content-Length leaves the stream where the server must
      // find its own way back (or close it); a clean message follows it on the same stream.
      if (!socket.write(bytes)) await drainedOrClosed(socket);
      counts.sent.tcp++;
    }
    while (Date.now() - lastData < 1000 && !socket.destroyed) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    socket.destroy();
  };
  await Promise.all(Array.from({ length: connections }, () => worker()));
}

/** Resolves when the socket can take more, or is gone (a reset is one of the outcomes we expect). */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Resolves once `emitter` has not emitted `event` for `ms`. */
function quiet(emitter: NodeJS.EventEmitter, event: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let timer = setTimeout(done, ms);
    function done(): void {
      emitter.off(event, reset);
      resolve();
    }
    function reset(): void {
      clearTimeout(timer);
      timer = setTimeout(done, ms);
    }
    emitter.on(event, reset);
  });
}
