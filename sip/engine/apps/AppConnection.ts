import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { parseAppCommand } from '../wire/appCommands.js';
import { encodeFrame, FrameDecoder } from '../wire/frameCodec.js';
import {
  buildAuthenticateFailed,
  buildAuthenticateOk,
  buildCdr,
  buildNo,
  buildNok,
  buildOk,
  buildPong,
  buildRequestSent,
  buildResponseSent,
  buildSipMessage,
} from '../wire/serverMessages.js';
import type { AppCommand, ProxyCommand, SipCommand, SipMessageMeta } from '../wire/wireTypes.js';
import type {
  AppCloseReason,
  AppConnectionEvents,
  AppConnectionOptions,
  AppConnectionState,
  CdrNotification,
  SipNotification,
} from './appConnectionTypes.js';
import type { AppsLogger } from './appsLogger.js';

/** How long a refused connection may take to read our refusal before we drop it. */
const CLOSE_GRACE_MS = 2000;

/**
 * One drachtio-srf app connected to the admin port ("inbound connection" mode): authentication,
 * its routes, and the `sip`/`proxy` commands it has sent that still await the server's answer.
 */
export class AppConnection extends EventEmitter<AppConnectionEvents> {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private stateValue: AppConnectionState = 'connecting';
  private tagList: string[] = [];
  private readonly routeSet = new Set<string>();
  /** `sip`/`proxy` commands by msgId, until acknowledged or rejected. */
  private readonly pending = new Map<string, SipCommand | ProxyCommand>();
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly logger: AppsLogger;
  private closeReason: AppCloseReason = 'peer-closed';
  private closeTimer: NodeJS.Timeout | undefined;
  private corked = false;

  constructor(private readonly options: AppConnectionOptions) {
    super();
    this.id = options.id;
    this.socket = options.socket;
    this.remoteAddress = options.socket.remoteAddress ?? '';
    this.remotePort = options.socket.remotePort ?? 0;
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    this.logger = options.logger;
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => {
      this.logger.warn({ app: this.id, err: err.message }, 'app connection error');
      this.closeReason = 'socket-error';
    });
    this.socket.on('close', () => this.onClosed());
  }

  get state(): AppConnectionState {
    return this.stateValue;
  }

  get isAuthenticated(): boolean {
    return this.stateValue === 'authenticated';
  }

  get tags(): readonly string[] {
    return this.tagList;
  }

  get routes(): ReadonlySet<string> {
    return this.routeSet;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  hasPending(appMsgId: string): boolean {
    return this.pending.has(appMsgId);
  }

  // ---- answers to the app's sip/proxy commands ----

  /** The request the app asked for went out; `rawSip` is the request exactly as sent. */
  ackRequestSent(appMsgId: string, meta: SipMessageMeta, txnId: string, rawSip: string): boolean {
    if (!this.settle(appMsgId)) return false;
    return this.write(buildRequestSent(this.options.newMsgId(), appMsgId, meta, txnId, rawSip));
  }

  /** The response the app asked for went out; `rawSip` is the response exactly as sent. */
  ackResponseSent(
    appMsgId: string,
    meta: SipMessageMeta,
    txnId: string,
    dialogId: string,
    rawSip: string,
  ): boolean {
    if (!this.settle(appMsgId)) return false;
    return this.write(buildResponseSent(this.options.newMsgId(), appMsgId, meta, txnId, dialogId, rawSip));
  }

  /** The command failed (`NOK|<reason>`); use "unable to find dialog" for a vanished dialog. */
  reject(appMsgId: string, reason: string): boolean {
    if (!this.settle(appMsgId)) return false;
    return this.write(buildNok(this.options.newMsgId(), appMsgId, reason));
  }

  // ---- messages the server originates ----

  /** A request or response for the app (`sip|…`). Returns the msgId used. */
  sendSip(n: SipNotification): string {
    const msgId = this.options.newMsgId();
    this.write(buildSipMessage(msgId, n.meta, n.txnId, n.dialogId, n.rawSip, n.receivedOn));
    return msgId;
  }

  sendCdr(n: CdrNotification): string {
    const msgId = this.options.newMsgId();
    this.write(buildCdr(msgId, n.event, n.source, n.time, n.rawSip, n.detail));
    return msgId;
  }

  /** Ends the connection after flushing what was written; the app's routes go with it. */
  close(reason: AppCloseReason = 'server-closing'): void {
    if (this.stateValue === 'closed' || this.closeTimer !== undefined) return;
    this.closeReason = reason;
    this.socket.end();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.closeTimer.unref();
  }

  // ---- internals ----

  private settle(appMsgId: string): boolean {
    if (this.pending.delete(appMsgId)) return true;
    this.logger.warn({ app: this.id, appMsgId }, 'answer for an unknown or settled app command dropped');
    return false;
  }

  private write(body: string): boolean {
    if (this.stateValue === 'closed' || this.socket.destroyed || this.socket.writableEnded) return false;
    // Under load many messages go to one app per event-loop turn; corking until the turn ends turns
    // them into one write instead of one system call each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(encodeFrame(body));
    return true;
  }

  private onData(chunk: Buffer): void {
    let bodies: string[];
    try {
      bodies = this.decoder.push(chunk);
    } catch (err) {
      this.logger.warn({ app: this.id, err: (err as Error).message }, 'bad frame from app; closing');
      this.close('bad-frame');
      return;
    }
    for (const body of bodies) {
      // A refusal closes the connection; later frames in the same chunk must not be acted on.
      if (this.closeTimer !== undefined || this.stateValue === 'closed') return;
      let command: AppCommand;
      try {
        command = parseAppCommand(body);
      } catch (err) {
        this.logger.warn({ app: this.id, err: (err as Error).message }, 'bad message from app; closing');
        this.close('bad-message');
        return;
      }
      this.handle(command);
    }
  }

  private handle(command: AppCommand): void {
    if (command.kind === 'authenticate') {
      this.authenticate(command.msgId, command.secret, command.tags);
      return;
    }
    if (this.stateValue !== 'authenticated') {
      // drachtio-server itself does not check this; refusing keeps unauthenticated peers inert.
      this.write(buildNo(this.options.newMsgId(), command.msgId, 'authentication required'));
      this.close('not-authenticated');
      return;
    }
    switch (command.kind) {
      case 'route':
        this.routeSet.add(command.verb);
        this.write(buildOk(this.options.newMsgId(), command.msgId));
        this.emit('route', command.verb);
        return;
      case 'remove_route':
        // drachtio-server 0.8 has no remove_route (srf's removeRoute would get it disconnected);
        // honouring it is the behaviour srf's API implies.
        this.routeSet.delete(command.verb);
        this.write(buildOk(this.options.newMsgId(), command.msgId));
        this.emit('removeRoute', command.verb);
        return;
      case 'ping':
        this.write(buildPong(this.options.newMsgId(), command.msgId));
        this.emit('ping');
        return;
      case 'sip':
      case 'proxy':
        this.pending.set(command.msgId, command);
        if (command.kind === 'sip') this.emit('sip', command);
        else this.emit('proxy', command);
        return;
      case 'unknown':
        this.write(buildNo(this.options.newMsgId(), command.msgId, 'Unknown message type'));
        this.close('unknown-command');
        return;
    }
  }

  private authenticate(msgId: string, secret: string, tags: string[]): void {
    if (!this.options.verifySecret(secret)) {
      this.logger.info({ app: this.id, remote: this.remoteAddress }, 'app presented an incorrect secret');
      this.write(buildAuthenticateFailed(this.options.newMsgId(), msgId));
      this.close('incorrect-secret');
      return;
    }
    const first = this.stateValue !== 'authenticated';
    this.stateValue = 'authenticated';
    this.tagList = tags;
    this.write(
      buildAuthenticateOk(this.options.newMsgId(), msgId, this.options.hostports(), this.options.version),
    );
    if (first) this.emit('authenticated');
  }

  private onClosed(): void {
    if (this.stateValue === 'closed') return;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.stateValue = 'closed';
    this.routeSet.clear();
    this.pending.clear();
    this.emit('close', this.closeReason);
  }
}
