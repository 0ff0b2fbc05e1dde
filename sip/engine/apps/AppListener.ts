import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { AppConnection } from './AppConnection.js';
import type { AppListenerOptions } from './appListenerTypes.js';
import { secretVerifier } from './secretCheck.js';
import { DEFAULT_SERVER_VERSION, isWireVersion } from './serverVersion.js';

/**
 * The admin TCP port drachtio-srf apps connect to (`srf.connect({host, port, secret})`). Each accepted
 * socket becomes an AppConnection handed to the registry.
 */
export class AppListener {
  private readonly server: Server;
  private readonly verifySecret: (candidate: string) => boolean;
  private readonly version: string;
  private readonly newMsgId: () => string;
  private readonly sockets = new Set<Socket>();
  private connectionCount = 0;

  constructor(private readonly options: AppListenerOptions) {
    this.version = options.version ?? DEFAULT_SERVER_VERSION;
    if (!isWireVersion(this.version)) {
      throw new Error(`server version '${this.version}' must look like vX.Y.Z (drachtio-srf parses it)`);
    }
    this.verifySecret = secretVerifier(options.secret);
    this.newMsgId = options.newMsgId ?? randomUUID;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.address, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        this.options.logger.info({ address: address.address, port: address.port }, 'admin port listening');
        resolve(address);
      });
    });
  }

  address(): AddressInfo | undefined {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Stops accepting, closes every app connection, resolves when all sockets are gone. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.options.registry.closeAll();
      for (const socket of this.sockets) {
        // An app that never authenticated is not in the registry's care; end it here too.
        socket.end();
      }
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const id = `app-${++this.connectionCount}`;
    this.options.logger.debug(
      { app: id, remote: socket.remoteAddress, port: socket.remotePort },
      'app connected',
    );
    const connection = new AppConnection({
      socket,
      id,
      verifySecret: this.verifySecret,
      version: this.version,
      hostports: this.options.hostports,
      newMsgId: this.newMsgId,
      logger: this.options.logger,
      ...(this.options.maxFrameBytes !== undefined ? { maxFrameBytes: this.options.maxFrameBytes } : {}),
    });
    this.options.registry.add(connection);
  }
}
