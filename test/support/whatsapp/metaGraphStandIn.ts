import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureOf } from '../../../src/signalling/graph/webhookSignature.js';

/** A call action as the stand-in received it (a connect with the wacid it answered with). */
export interface ReceivedCallAction {
  phoneNumberId: string;
  wacid?: string;
  authorization: string | undefined;
  body: {
    messaging_product?: string;
    call_id?: string;
    action?: string;
    session?: { sdp_type?: string; sdp?: string };
  };
}

/** The page a WebRTC client runs in: loopback http is a secure context, so getUserMedia works. */
const CLIENT_PAGE = '<!doctype html><title>WhatsApp user (test)</title>';

/**
 * A STAND-IN for Meta's WhatsApp Cloud API, which cannot be reached from here: it takes the call
 * actions the gateway sends (`POST /v21.0/<PHONE_NUMBER_ID>/calls` with the Bearer token, or
 * 360dialog's `POST /calling/calls` with the token as D360-API-KEY) and
 * answers them as Meta does, and it delivers webhooks to the gateway signed with the app secret,
 * as Meta's servers would. It also serves a blank page for the browser that plays the WhatsApp
 * user's phone (Chromium's WebRTC is the real media peer).
 */
export class MetaGraphStandIn {
  readonly actions: ReceivedCallAction[] = [];
  private readonly waiters: { action: string; resolve: (a: ReceivedCallAction) => void }[] = [];
  /** Answers to the next actions instead of success (Meta's error shape), in order. */
  private failures: { status: number; code: number; message: string }[] = [];
  /** Every call action received, failed ones too, by action name. */
  readonly attempts: string[] = [];
  /** Users (WhatsApp ids, digits) who gave the business call permission. */
  readonly permitted = new Set<string>();
  /** Settings the gateway pushed, per number (`360dialog` for the 360dialog path). */
  readonly settings: { phoneNumberId: string; body: any }[] = [];
  private calls = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: { accessToken: string; appSecret: string },
  ) {}

  static async start(options: { accessToken: string; appSecret: string }): Promise<MetaGraphStandIn> {
    let standIn: MetaGraphStandIn | undefined;
    const server = createServer((request, response) => {
      void standIn?.handle(request).then(({ status, body, type }) => {
        response.writeHead(status, { 'content-type': type ?? 'application/json' });
        response.end(body);
      });
    });
    standIn = new MetaGraphStandIn(server, options);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return standIn;
  }

  /** The next action (or settings push) fails so. */
  set failNext(failure: { status: number; code: number; message: string }) {
    this.failures = [failure];
  }

  /** The next `times` actions fail so (a provider having a bad minute). */
  failTimes(times: number, failure: { status: number; code: number; message: string }): void {
    this.failures = Array.from({ length: times }, () => failure);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Meta's Graph base URL, as a number's `baseUrl` names it. */
  get graphUrl(): string {
    return `${this.url}/v21.0`;
  }

  get clientPage(): string {
    return `${this.url}/client.html`;
  }

  /** The next action named `action` (or one already received and not yet taken). */
  nextAction(action: string): Promise<ReceivedCallAction> {
    const index = this.actions.findIndex((a) => a.body.action === action);
    if (index >= 0) return Promise.resolve(this.actions.splice(index, 1)[0] as ReceivedCallAction);
    return new Promise((resolve) => this.waiters.push({ action, resolve }));
  }

  /** A `calls` webhook with call statuses (RINGING, ACCEPTED, REJECTED) of placed calls. */
  statusWebhook(gatewayUrl: string, phoneNumberId: string, wacid: string, status: string): Promise<Response> {
    return this.webhook(gatewayUrl, phoneNumberId, [], {
      statuses: [{ id: wacid, type: 'call', status, timestamp: String(Math.floor(Date.now() / 1000)) }],
    });
  }

  /** A `calls` webhook for `phoneNumberId`, signed (or signed with `secret` instead), to the gateway. */
  async webhook(
    gatewayUrl: string,
    phoneNumberId: string,
    calls: Record<string, unknown>[],
    options: { secret?: string; signature?: string | null; statuses?: Record<string, unknown>[] } = {},
  ): Promise<Response> {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'calls',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550199', phone_number_id: phoneNumberId },
                ...(calls.length > 0 ? { calls } : {}),
                ...(options.statuses ? { statuses: options.statuses } : {}),
              },
            },
          ],
        },
      ],
    });
    const signature =
      options.signature === undefined
        ? signatureOf(body, options.secret ?? this.options.appSecret)
        : options.signature;
    return fetch(`${gatewayUrl}/v1/whatsapp/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
      },
      body,
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async takeSettings(
    request: IncomingMessage,
    phoneNumberId: string,
  ): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const authorized =
      phoneNumberId === '360dialog'
        ? request.headers['d360-api-key'] === this.options.accessToken
        : request.headers.authorization === `Bearer ${this.options.accessToken}`;
    if (!authorized) return error(401, 190, 'Invalid OAuth access token');
    const failure = this.failures.shift();
    if (failure) return error(failure.status, failure.code, failure.message);
    this.settings.push({ phoneNumberId, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    return { status: 200, body: JSON.stringify({ success: true }) };
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: string; type?: string }> {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (request.method === 'GET' && path === '/client.html') {
      return { status: 200, body: CLIENT_PAGE, type: 'text/html' };
    }
    const permissions = /^\/v21\.0\/(\d+)\/call_permissions$/.exec(path);
    const dialogPermissions = /^\/calling\/permissions\/(\d+)$/.exec(path);
    if (request.method === 'GET' && (permissions || dialogPermissions)) {
      const authorized = permissions
        ? request.headers.authorization === `Bearer ${this.options.accessToken}`
        : request.headers['d360-api-key'] === this.options.accessToken;
      if (!authorized) return error(401, 190, 'Invalid OAuth access token');
      const user = permissions
        ? (new URL(request.url ?? '', this.url).searchParams.get('user_wa_id') ?? '')
        : (dialogPermissions?.[1] ?? '');
      const granted = this.permitted.has(user);
      return {
        status: 200,
        body: JSON.stringify({
          messaging_product: 'whatsapp',
          permission: { status: granted ? 'granted' : 'no_permission' },
          actions: [{ action_name: 'start_call', can_perform_action: granted }],
        }),
      };
    }
    // Meta's Graph path names the number; 360dialog's key names its channel (one number).
    const settings =
      /^\/v21\.0\/(\d+)\/settings$/.exec(path) ?? (path === '/calling/settings' ? [path, '360dialog'] : null);
    if (request.method === 'POST' && settings) return this.takeSettings(request, settings[1] as string);
    const graph = /^\/v21\.0\/(\d+)\/calls$/.exec(path);
    const dialog = path === '/calling/calls';
    if (request.method !== 'POST' || (!graph && !dialog)) return error(404, 100, 'Unknown path components');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const authorization = graph ? request.headers.authorization : request.headers['d360-api-key'];
    const expected = graph ? `Bearer ${this.options.accessToken}` : this.options.accessToken;
    if (authorization !== expected) return error(401, 190, 'Invalid OAuth access token');
    const received: ReceivedCallAction = {
      phoneNumberId: graph ? (graph[1] as string) : '360dialog',
      authorization: typeof authorization === 'string' ? authorization : undefined,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
    };
    this.attempts.push(received.body.action ?? '');
    const failure = this.failures.shift();
    if (failure) return error(failure.status, failure.code, failure.message);
    const placed = received.body.action === 'connect' ? `wacid.placed-${++this.calls}-${Date.now()}` : null;
    if (placed) received.wacid = placed;
    const waiter = this.waiters.findIndex((w) => w.action === received.body.action);
    if (waiter >= 0) this.waiters.splice(waiter, 1)[0]?.resolve(received);
    else this.actions.push(received);
    const answer = placed ? { calls: [{ id: placed }] } : { success: true };
    return { status: 200, body: JSON.stringify({ messaging_product: 'whatsapp', ...answer }) };
  }
}

function error(status: number, code: number, message: string) {
  return { status, body: JSON.stringify({ error: { message, type: 'OAuthException', code } }) };
}
