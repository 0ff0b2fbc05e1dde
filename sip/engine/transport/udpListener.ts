import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { addressFamily, normalizeAddress } from './addressUtils.js';
import { TransportError } from './transportError.js';

/** One bound UDP socket. */
export class UdpListener {
  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
  ) {}

  static bind(
    host: string,
    port: number,
    onDatagram: (data: Buffer, rinfo: RemoteInfo, listener: UdpListener) => void,
    onError: (err: Error) => void,
  ): Promise<UdpListener> {
    const family = addressFamily(host);
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        const listener = new UdpListener(socket, host, socket.address().port);
        socket.on('error', onError);
        socket.on('message', (data, rinfo) => onDatagram(data, rinfo, listener));
        resolve(listener);
      });
    });
  }

  get family(): 4 | 6 {
    return addressFamily(this.host);
  }

  send(data: Buffer, address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(data, port, normalizeAddress(address), (err) => {
        if (err)
          reject(new TransportError(`udp send failed: ${err.message}`, 'write-failed', { cause: err }));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
