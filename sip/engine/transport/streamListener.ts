import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { TlsServerOptions } from './transportTypes.js';

/** A listening TCP or TLS server handing every accepted socket to the transport layer. */
export class StreamListener {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly transport: 'tcp' | 'tls',
    readonly host: string,
    readonly port: number,
  ) {}

  static listen(
    transport: 'tcp' | 'tls',
    host: string,
    port: number,
    tls: TlsServerOptions | undefined,
    onSocket: (socket: Socket, listener: StreamListener) => void,
    onError: (err: Error) => void,
  ): Promise<StreamListener> {
    let server: Server;
    if (transport === 'tls') {
      if (!tls) return Promise.reject(new Error('TLS listener needs a certificate and key'));
      const cert = tls.chain
        ? Buffer.concat([Buffer.from(tls.cert), Buffer.from('\n'), Buffer.from(tls.chain)])
        : tls.cert;
      // No ALPN and no client certificate: WhatsApp's SIP edge refuses a handshake offering ALPN.
      server = createTlsServer({ key: tls.key, cert, requestCert: false });
    } else {
      server = createNetServer();
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        const listener = new StreamListener(server, transport, host, bound);
        server.on('error', onError);
        // TLS must finish its handshake before data flows; plain TCP is ready on accept.
        const event = transport === 'tls' ? 'secureConnection' : 'connection';
        server.on(event, (socket: Socket | TLSSocket) => {
          listener.sockets.add(socket);
          socket.once('close', () => listener.sockets.delete(socket));
          onSocket(socket, listener);
        });
        if (transport === 'tls') {
          // Failed handshakes never become connections; swallow them so they cannot crash us.
          server.on('tlsClientError', () => {});
        }
        resolve(listener);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
