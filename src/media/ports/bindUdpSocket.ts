import { createSocket, type Socket } from 'node:dgram';

/** Errors meaning "this port is not ours to take": skip it and try the next one. */
const PORT_UNAVAILABLE = new Set(['EADDRINUSE', 'EACCES']);

export function isPortUnavailable(error: unknown): boolean {
  return PORT_UNAVAILABLE.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Binds a UDP socket to exactly this port, or rejects with the OS's error. Bound without
 * reuseAddr, so a port another process holds is refused by the kernel, not shared.
 */
export function bindUdpSocket(port: number, address: string): Promise<Socket> {
  const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off('listening', onListening);
      closeQuietly(socket);
      reject(error);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ port, address, exclusive: true });
  });
}

/** Closing twice (or a socket whose bind failed) throws; teardown must not. */
export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // Already closed.
  }
}
