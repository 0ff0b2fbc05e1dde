import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { isWorkerToMainMessage } from './channelMessages.js';
import type { CommandParams, CommandResult, MediaCommandName } from './mediaChannelTypes.js';
import { MediaCommandError } from './mediaCommandError.js';
import type {
  MediaWorkerEvents,
  MediaWorkerOptions,
  MediaWorkerState,
  WorkerExit,
} from './mediaWorkerTypes.js';
import { WorkerChannel } from './WorkerChannel.js';

/**
 * One media worker child process, seen from the main process: fork, init handshake, typed
 * requests, events, and exactly one 'exit' whether it was asked to stop or crashed.
 */
export class MediaWorker extends EventEmitter<MediaWorkerEvents> {
  /** Sessions placed here, counted from placement on so concurrent placements spread out. */
  readonly sessions = new Set<string>();
  private readonly channel: WorkerChannel;
  private stateValue: MediaWorkerState = 'starting';
  private readonly exited: Promise<WorkerExit>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: MediaWorkerOptions,
  ) {
    super();
    this.channel = new WorkerChannel((message, callback) => {
      if (!child.connected) {
        callback(new Error('worker channel closed'));
        return;
      }
      child.send(message, callback);
    }, options.requestTimeoutMs);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const expected = this.stateValue === 'closing';
        this.stateValue = 'exited';
        const info: WorkerExit = { index: options.index, pid: this.pid, code, signal, expected };
        this.channel.failAll(
          expected ? 'worker_closed' : 'worker_died',
          `media worker ${options.index} (pid ${this.pid}) exited (${signal ?? `code ${code}`})`,
        );
        resolve(info);
        this.emit('exit', info);
      });
    });
    child.on('message', (message) => {
      if (!isWorkerToMainMessage(message)) return;
      if (message.type === 'response') this.channel.handleResponse(message);
      else if (message.type === 'event') this.emit('event', message);
    });
    // Send failures surface through the send callback; this only keeps them from throwing.
    child.on('error', () => {});
  }

  /** Forks the entry file and resolves once the worker has taken its init and said ready. */
  static async start(options: MediaWorkerOptions): Promise<MediaWorker> {
    // Said plainly here rather than as a child's module-not-found stack trace.
    if (!existsSync(options.entryFile)) {
      throw new MediaCommandError(
        'internal',
        `media worker entry ${options.entryFile} does not exist (is the project built? npm run build)`,
      );
    }
    const child = fork(options.entryFile, [], {
      // JSON IPC: control messages only, and Node frames each one whole.
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Not the parent's flags: a test runner's loaders or inspector must not follow the worker.
      execArgv: options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [],
      env: options.env ?? process.env,
    });
    const worker = new MediaWorker(child, options);
    await worker.handshake();
    return worker;
  }

  get index(): number {
    return this.options.index;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get state(): MediaWorkerState {
    return this.stateValue;
  }

  request<M extends MediaCommandName>(
    method: M,
    params: CommandParams<M>,
    timeoutMs?: number,
  ): Promise<CommandResult<M>> {
    return this.channel.request(method, params, timeoutMs);
  }

  /** Ends the process at once (a stuck worker); 'exit' follows as for a crash. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /**
   * Asks the worker to close its sessions and exit; kills it if it has not exited within
   * `graceMs`. Resolves once the process is gone.
   */
  async close(graceMs: number): Promise<WorkerExit> {
    if (this.stateValue === 'exited') return this.exited;
    if (this.stateValue !== 'closing') {
      this.stateValue = 'closing';
      const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      this.channel
        .request('shutdown', { reason: 'shutdown' }, graceMs)
        .catch(() => this.child.kill('SIGKILL'));
      void this.exited.then(() => clearTimeout(kill));
    }
    return this.exited;
  }

  private handshake(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.child.kill('SIGKILL');
        reject(new MediaCommandError('internal', `media worker ${this.index} did not start in time`));
      }, this.options.startTimeoutMs);
      const onMessage = (message: unknown): void => {
        if (!isWorkerToMainMessage(message) || message.type !== 'ready') return;
        cleanup();
        this.stateValue = 'ready';
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        reject(
          new MediaCommandError(
            'internal',
            `media worker ${this.index} exited while starting (${signal ?? code})`,
          ),
        );
      };
      const onError = (error: Error): void => {
        cleanup();
        this.child.kill('SIGKILL');
        reject(
          new MediaCommandError('internal', `media worker ${this.index} failed to start: ${error.message}`),
        );
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        this.child.off('error', onError);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.once('error', onError);
      this.child.send({ type: 'init', init: this.options.init });
    });
  }
}
