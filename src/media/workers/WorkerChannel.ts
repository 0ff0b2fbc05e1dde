import type {
  CommandParams,
  CommandResult,
  MainToWorkerMessage,
  MediaCommandName,
  MediaErrorCode,
  RequestMessage,
  ResponseMessage,
} from './mediaChannelTypes.js';
import { MediaCommandError } from './mediaCommandError.js';

interface Pending {
  method: MediaCommandName;
  resolve: (result: CommandResult<MediaCommandName>) => void;
  reject: (error: MediaCommandError) => void;
  timer: NodeJS.Timeout;
}

export type ChannelSend = (message: MainToWorkerMessage, callback: (error: Error | null) => void) => void;

/**
 * The main process's end of one worker's channel: numbers each request, matches responses by
 * id, and guarantees every request settles: with the worker's answer, a timeout, or the
 * worker's death (failAll). A late answer after a timeout is dropped.
 */
export class WorkerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: { code: MediaErrorCode; message: string } | null = null;

  constructor(
    private readonly send: ChannelSend,
    private readonly defaultTimeoutMs: number,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  request<M extends MediaCommandName>(
    method: M,
    params: CommandParams<M>,
    timeoutMs: number = this.defaultTimeoutMs,
  ): Promise<CommandResult<M>> {
    if (this.closedWith) {
      return Promise.reject(new MediaCommandError(this.closedWith.code, this.closedWith.message, method));
    }
    const id = this.nextId++;
    return new Promise<CommandResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, (entry) =>
          entry.reject(
            new MediaCommandError('timeout', `${method} got no answer within ${timeoutMs} ms`, method),
          ),
        );
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: resolve as (result: CommandResult<MediaCommandName>) => void,
        reject,
        timer,
      });
      const message = { type: 'request', id, method, params } as RequestMessage;
      this.send(message, (error) => {
        if (!error) return;
        this.settle(id, (entry) =>
          entry.reject(
            new MediaCommandError('worker_died', `${method} could not be sent: ${error.message}`, method),
          ),
        );
      });
    });
  }

  handleResponse(message: ResponseMessage): void {
    this.settle(message.id, (entry) => {
      if (message.ok) entry.resolve(message.result);
      else entry.reject(new MediaCommandError(message.error.code, message.error.message, entry.method));
    });
  }

  /** Rejects everything outstanding and everything asked from now on. */
  failAll(code: MediaErrorCode, message: string): void {
    this.closedWith = { code, message };
    for (const id of [...this.pending.keys()]) {
      this.settle(id, (entry) => entry.reject(new MediaCommandError(code, message, entry.method)));
    }
  }

  private settle(id: number, action: (entry: Pending) => void): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    action(entry);
  }
}
