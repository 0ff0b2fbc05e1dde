import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { stopChild } from './stopChild.js';

export interface SipEngineLaunch {
  /** Package root holding dist/sip/engine/main.js. */
  root: string;
  contacts: readonly string[];
  adminAddress: string;
  adminPort: number;
  secret: string;
  /** Certificate and key of its transport=tls contacts (sip.tls). */
  tls?: { certFile: string; keyFile: string; chainFile?: string | undefined } | null;
}

/**
 * The embedded SIP server as a child process, started with drachtio-server's own options so the
 * same line would start a drachtio-server. Output goes to the launcher's terminal.
 */
export class SipEngineProcess {
  private child: ChildProcess | undefined;

  constructor(private readonly launch: SipEngineLaunch) {}

  start(): ChildProcess {
    const args = [join(this.launch.root, 'dist', 'sip', 'engine', 'main.js')];
    for (const contact of this.launch.contacts) args.push('--contact', contact);
    args.push('--address', this.launch.adminAddress, '--port', String(this.launch.adminPort));
    args.push('--secret', this.launch.secret, '--noconfig');
    const tls = this.launch.tls;
    if (tls) {
      args.push('--key-file', tls.keyFile, '--cert-file', tls.certFile);
      if (tls.chainFile) args.push('--chain-file', tls.chainFile);
    }
    this.child = spawn(process.execPath, args, { stdio: 'inherit', cwd: this.launch.root });
    return this.child;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child);
  }
}
