import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AgentReadout, AgentReply, AgentRequest } from './agentMessages.js';

const ENTRY = fileURLToPath(new URL('./roomAgents.js', import.meta.url));

/** The room agents' child process (roomAgents.ts), driven by request/reply over IPC. */
export class AgentFleet {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<unknown>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: AgentReply) => {
      const waiter = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(reply.error));
    });
    this.exited = once(child, 'exit');
    void this.exited.then(() => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('room agents process exited'));
      this.pending.clear();
    });
  }

  static start(): AgentFleet {
    // rtc-node logs at debug level unless NODE_ENV is production.
    return new AgentFleet(
      fork(ENTRY, [], { env: { ...process.env, NODE_ENV: 'production' }, stdio: 'inherit' }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  join(request: Omit<Extract<AgentRequest, { kind: 'join' }>, 'kind'>): Promise<void> {
    return this.ask({ kind: 'join', ...request }) as Promise<void>;
  }

  /** Starts a burst; resolves with the wall-clock time of its first sample. */
  burst(agent: string, durationMs: number): Promise<number> {
    return this.ask({ kind: 'burst', agent, durationMs }) as Promise<number>;
  }

  reset(): Promise<void> {
    return this.ask({ kind: 'reset' }) as Promise<void>;
  }

  read(): Promise<AgentReadout> {
    return this.ask({ kind: 'read' }) as Promise<AgentReadout>;
  }

  leave(agent: string): Promise<void> {
    return this.ask({ kind: 'leave', agent }) as Promise<void>;
  }

  /** Disconnecting IPC makes the process leave its rooms and exit; SIGKILL if it does not in 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private ask(request: AgentRequest): Promise<unknown> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.child.send({ seq, request });
    });
  }
}
