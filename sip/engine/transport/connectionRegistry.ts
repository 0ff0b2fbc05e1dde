import type { StreamConnection } from './streamConnection.js';
import type { ConnectionCounts } from './transportTypes.js';

function remoteKey(transport: string, address: string, port: number): string {
  return `${transport}|${address.toLowerCase()}|${port}`;
}

/** Open stream connections, found by id (responses) or by remote address (new requests). */
export class ConnectionRegistry {
  private readonly byId = new Map<string, StreamConnection>();
  private readonly byRemote = new Map<string, StreamConnection>();

  add(conn: StreamConnection): void {
    const { id, transport, remoteAddress, remotePort } = conn.info;
    this.byId.set(id, conn);
    this.byRemote.set(remoteKey(transport, remoteAddress, remotePort), conn);
  }

  /** Makes `conn` findable under another name of the same peer. */
  alias(transport: string, address: string, port: number, conn: StreamConnection): void {
    this.byRemote.set(remoteKey(transport, address, port), conn);
  }

  delete(conn: StreamConnection): void {
    this.byId.delete(conn.info.id);
    for (const [key, value] of this.byRemote) {
      if (value === conn) this.byRemote.delete(key);
    }
  }

  get(id: string): StreamConnection | undefined {
    const conn = this.byId.get(id);
    return conn?.isOpen ? conn : undefined;
  }

  findByRemote(transport: string, address: string, port: number): StreamConnection | undefined {
    const conn = this.byRemote.get(remoteKey(transport, address, port));
    return conn?.isOpen ? conn : undefined;
  }

  all(): StreamConnection[] {
    return [...this.byId.values()];
  }

  counts(): ConnectionCounts {
    let tcp = 0;
    let tls = 0;
    for (const conn of this.byId.values()) {
      if (conn.info.transport === 'tcp') tcp++;
      else tls++;
    }
    return { tcp, tls, total: tcp + tls };
  }

  closeIdle(now: number, idleMs: number): number {
    let closed = 0;
    for (const conn of this.byId.values()) {
      if (now - conn.lastActivity >= idleMs) {
        conn.close();
        closed++;
      }
    }
    return closed;
  }
}
