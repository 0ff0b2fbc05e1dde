import { isMainToWorkerMessage, toChannelError } from './channelMessages.js';
import type {
  CommandResult,
  MediaCommandName,
  MediaEventName,
  MediaEvents,
  RequestMessage,
  WorkerInit,
  WorkerStatus,
  WorkerToMainMessage,
} from './mediaChannelTypes.js';
import type { SessionHandler, SessionHandlerFactory } from './sessionHandlerTypes.js';
import type { ParentPort } from './workerRuntimeTypes.js';

/**
 * The worker process's end of the channel: reads commands, hands session commands to the
 * SessionHandler, answers each by id, and forwards the handler's events. It holds no call
 * state itself, so a handler can be swapped (the loopback stand-in in tests, the real bridge in
 * production) without touching the protocol.
 */
export class WorkerRuntime {
  private handler: SessionHandler | null = null;
  private init: WorkerInit | null = null;
  private shuttingDown = false;

  constructor(
    private readonly port: ParentPort,
    private readonly createHandler: SessionHandlerFactory,
  ) {}

  start(): void {
    this.port.on('message', (message) => this.onMessage(message));
    // The main process is gone (crashed or killed): nobody will close these calls, so do it now.
    this.port.on('disconnect', () => void this.stop().finally(() => this.port.exit()));
  }

  private onMessage(message: unknown): void {
    if (!isMainToWorkerMessage(message)) return;
    if (message.type === 'init') {
      if (this.handler) return;
      this.init = message.init;
      this.handler = this.createHandler({ init: message.init, events: { emit: (e, d) => this.emit(e, d) } });
      this.send({ type: 'ready', pid: process.pid });
      return;
    }
    void this.handle(message);
  }

  private async handle(request: RequestMessage): Promise<void> {
    try {
      const result = await this.dispatch(request);
      this.send({ type: 'response', id: request.id, ok: true, result });
      if (request.method === 'shutdown') this.port.exit();
    } catch (error) {
      this.send({ type: 'response', id: request.id, ok: false, error: toChannelError(error) });
    }
  }

  private async dispatch(request: RequestMessage): Promise<CommandResult<MediaCommandName>> {
    const handler = this.handler;
    if (!handler) throw Object.assign(new Error('worker not initialised'), { code: 'bad_request' });
    switch (request.method) {
      case 'getWorkerStatus':
        return this.status(handler);
      case 'shutdown':
        return { closedSessions: await this.stop() };
      default: {
        if (this.shuttingDown)
          throw Object.assign(new Error('worker is shutting down'), { code: 'worker_closed' });
        // The method/params pairing is guaranteed by RequestMessage; TypeScript cannot follow
        // a correlated union through an index, hence the one cast.
        const command = handler[request.method] as (
          params: unknown,
        ) => Promise<CommandResult<MediaCommandName>>;
        return command.call(handler, request.params);
      }
    }
  }

  private status(handler: SessionHandler): WorkerStatus {
    const { sessions, portsInUse } = handler.status();
    const init = this.init as WorkerInit;
    return {
      pid: process.pid,
      workerIndex: init.workerIndex,
      sessions,
      portsInUse,
      portRange: init.portRange,
      rssBytes: process.memoryUsage.rss(),
    };
  }

  private async stop(): Promise<number> {
    if (this.shuttingDown || !this.handler) return 0;
    this.shuttingDown = true;
    return this.handler.shutdown();
  }

  private emit<E extends MediaEventName>(event: E, data: MediaEvents[E]): void {
    this.send({ type: 'event', event, data } as WorkerToMainMessage);
  }

  private send(message: WorkerToMainMessage): void {
    this.port.send(message);
  }
}
