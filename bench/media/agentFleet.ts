import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AgentReadout, AgentReply, AgentRequest } from './agentMessages.js';

const ENTRY = fileURLToPath(new URL('./roomAgents.js', import.meta.url));

/** One room-agent child process (roomAgents.ts), driven by request/reply over IPC. */
class AgentProcess {
  /** Agents this process carries now. */
  agents = 0;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<unknown>;

  constructor(private readonly child: ChildProcess) {
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

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Disconnecting IPC makes the process leave its rooms and exit; SIGKILL if it does not in 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  ask(request: AgentRequest): Promise<unknown> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.child.send({ seq, request });
    });
  }
}

/**
 * The room agents, spread over child processes of at most `perProcess` agents each, started as
 * needed. rtc-node offers every FFI callback to every pending waiter in a process, so its cost
 * per frame grows with the rooms in one process; small processes keep the harness's share of
 * the machine, and its event-loop stalls, down.
 */
export class AgentFleet {
  private readonly processes: AgentProcess[] = [];
  private readonly owners = new Map<string, AgentProcess>();

  constructor(private readonly perProcess: number) {}

  pids(): number[] {
    return this.processes.map((p) => p.pid);
  }

  async join(request: Omit<Extract<AgentRequest, { kind: 'join' }>, 'kind'>): Promise<void> {
    let owner = this.processes.find((p) => p.agents < this.perProcess);
    if (!owner) {
      // rtc-node logs at debug level unless NODE_ENV is production.
      owner = new AgentProcess(
        fork(ENTRY, [], { env: { ...process.env, NODE_ENV: 'production' }, stdio: 'inherit' }),
      );
      this.processes.push(owner);
    }
    owner.agents++;
    this.owners.set(request.agent, owner);
    await owner.ask({ kind: 'join', ...request });
  }

  /** Starts a burst; resolves with the wall-clock time of its first sample. */
  burst(agent: string, durationMs: number): Promise<number> {
    return this.ownerOf(agent).ask({ kind: 'burst', agent, durationMs }) as Promise<number>;
  }

  async reset(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.ask({ kind: 'reset' })));
  }

  async read(): Promise<AgentReadout> {
    const parts = (await Promise.all(this.processes.map((p) => p.ask({ kind: 'read' })))) as AgentReadout[];
    return {
      agents: parts.flatMap((p) => p.agents),
      onsets: Object.assign({}, ...parts.map((p) => p.onsets)),
      loopDelayP99Ms: Math.max(0, ...parts.map((p) => p.loopDelayP99Ms)),
      loopDelayMaxMs: Math.max(0, ...parts.map((p) => p.loopDelayMaxMs)),
    };
  }

  async leave(agent: string): Promise<void> {
    const owner = this.ownerOf(agent);
    this.owners.delete(agent);
    owner.agents--;
    await owner.ask({ kind: 'leave', agent });
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
  }

  private ownerOf(agent: string): AgentProcess {
    const owner = this.owners.get(agent);
    if (!owner) throw new Error(`no agent ${agent}`);
    return owner;
  }
}
