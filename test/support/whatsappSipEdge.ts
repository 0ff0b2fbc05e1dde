import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { StreamFramer } from '../../sip/engine/message/streamFramer.js';
import {
  header,
  hostOf,
  isRequest,
  methodOf,
  parseSip,
  responseTo,
  type SipText,
  statusOf,
  tagOf,
  uriOf,
  userOf,
  writeSip,
} from './sipMessageText.js';

/**
 * Stand-in for Meta's WhatsApp SIP edge (`wa.meta.vc`), which cannot be reached from here. It sits
 * between the gateway (over TLS) and a baresip playing the WhatsApp user's phone (over UDP), and
 * relays each call like a small B2BUA, passing SDP through unchanged: the media flows straight
 * between the gateway and baresip, a real DTLS-SRTP/ICE or SDES + Opus stack.
 *
 * What it reproduces of Meta (../shared/notes/whatsapp-calling.md): TLS with a certificate for
 * its name, a handshake offering ALPN aborted (alert 120); business-initiated INVITEs challenged
 * with 407 (realm wa.meta.vc, qop=auth, SHA-256 or MD5) and checked against the number's
 * password, and refused with 403 when the From host is not the number's SIP hostname;
 * x-wa-meta-* headers on its INVITEs, answers and BYEs (x-wa-meta-call-duration on BYE); only
 * INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS taken from the gateway (405 otherwise), re-INVITEs
 * refused (488). What it cannot: Meta's real media servers (ice-lite; baresip is a full ICE agent,
 * see whatsappMediaStandIn.ts for ice-lite), its SDP validation, its timers and its networks.
 */
export interface WhatsAppSipEdgeOptions {
  numbers: { number: string; password: string; sipHostname: string }[];
  digestAlgorithm: 'SHA-256' | 'MD5';
  /** The WhatsApp user's phone (baresip on UDP): business-initiated calls are relayed to it. */
  user: { host: string; port: number };
  /** The gateway's TLS listener: user-initiated calls are relayed to it. */
  gateway: { host: string; port: number };
  /** Its TLS identity (testCertificate('wa.meta.test')): the gateway's SIP server must trust it. */
  certificate: { certFile: string; keyFile: string };
}

/** A request the gateway sent the edge. */
export interface GatewayRequest {
  method: string;
  inDialog: boolean;
  message: SipText;
}

/** One side of a relayed call, as the edge addresses requests into it. */
interface Leg {
  transport: 'TLS' | 'UDP';
  callId: string;
  /** Our name-addr with our tag (From of our requests). */
  local: string;
  /** Theirs, with their tag once known (To of our requests). */
  remote: string;
  /** Request-URI of in-dialog requests: their Contact. */
  target: string;
  cseq: number;
  send(text: string): void;
}

interface Relay {
  wacid: string;
  gateway: Leg;
  user: Leg;
  /** The INVITE that started the call, on the side that sent it, to answer it. */
  invite: SipText;
  from: 'gateway' | 'user';
  /** Our INVITE toward the other side (for ACK of a failure and CANCEL). */
  outgoing: SipText;
  answeredAt: number | null;
  over: boolean;
}

const ALLOW = 'INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS';
const REALM = 'wa.meta.vc';

export class WhatsAppSipEdge extends EventEmitter<{ ended: [{ by: 'gateway' | 'user' }] }> {
  /** Every request the gateway sent, in order. */
  readonly requests: GatewayRequest[] = [];
  /** The last INVITE the edge sent the gateway (user-initiated), headers and all. */
  lastInviteToGateway: SipText | null = null;
  private readonly relays = new Map<string, Relay>();
  private readonly nonces = new Set<string>();
  private readonly gatewaySockets = new Set<TLSSocket>();
  private nextUserCall: { from: string; headers: Record<string, string> } | null = null;

  private constructor(
    private readonly options: WhatsAppSipEdgeOptions,
    private readonly server: Server,
    private readonly udp: UdpSocket,
    readonly caFile: string,
  ) {
    super();
    server.on('secureConnection', (socket) => this.onGatewaySocket(socket));
    udp.on('message', (data, from) => this.onUserDatagram(data, from));
  }

  static async start(options: WhatsAppSipEdgeOptions): Promise<WhatsAppSipEdge> {
    const { certificate } = options;
    const server = createServer({
      cert: readFileSync(certificate.certFile),
      key: readFileSync(certificate.keyFile),
      // Meta aborts a handshake that offers ALPN (alert 120, no_application_protocol).
      ALPNCallback: () => undefined,
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const edge = new WhatsAppSipEdge(options, server, udp, certificate.certFile);
    server.on('tlsClientError', () => undefined);
    return edge;
  }

  get tlsPort(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  get udpPort(): number {
    return this.udp.address().port;
  }

  /** The next INVITE the WhatsApp user's phone sends the edge goes to the gateway from `from`. */
  relayNextUserCall(from: string, headers: Record<string, string> = {}): void {
    this.nextUserCall = { from, headers };
  }

  async stop(): Promise<void> {
    for (const socket of this.gatewaySockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }

  private onGatewaySocket(socket: TLSSocket): void {
    this.gatewaySockets.add(socket);
    const framer = new StreamFramer();
    socket.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) {
        if (item.type !== 'message') continue;
        const message = parseSip(item.data.toString('utf8'));
        if (message) this.fromGateway(message, socket);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.gatewaySockets.delete(socket));
  }

  private onUserDatagram(data: Buffer, from: RemoteInfo): void {
    const message = parseSip(data.toString('utf8'));
    if (message) this.fromUser(message, from);
  }

  // ---- the gateway's side ----

  private fromGateway(message: SipText, socket: TLSSocket): void {
    const send = (text: string): void => {
      if (!socket.destroyed) socket.write(text);
    };
    if (!isRequest(message)) {
      this.responseFromGateway(message);
      return;
    }
    const method = methodOf(message);
    const inDialog = tagOf(header(message, 'To')) !== undefined;
    this.requests.push({ method, inDialog, message });
    const relay = this.relays.get(header(message, 'Call-ID') ?? '');
    if (method === 'ACK') return;
    if (!ALLOW.split(', ').includes(method)) {
      send(responseTo(message, 405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] }));
      return;
    }
    if (method === 'OPTIONS') {
      send(responseTo(message, 200, 'OK', { headers: [['Allow', ALLOW]] }));
      return;
    }
    if (method === 'INVITE' && inDialog) {
      send(responseTo(message, 488, 'Not Acceptable Here'));
      return;
    }
    if (method === 'INVITE') {
      this.businessInvite(message, send);
      return;
    }
    if (method === 'BYE' && relay) {
      send(responseTo(message, 200, 'OK'));
      this.hangUp(relay, 'gateway');
      return;
    }
    if (method === 'CANCEL' && relay && relay.answeredAt === null) {
      send(responseTo(message, 200, 'OK'));
      this.cancel(relay, relay.user);
      return;
    }
    send(responseTo(message, 481, 'Call/Transaction Does Not Exist'));
  }

  /** A business-initiated INVITE: 407 first, then the number's password and SIP hostname. */
  private businessInvite(invite: SipText, send: (text: string) => void): void {
    const caller = userOf(header(invite, 'From')) ?? '';
    const number = this.options.numbers.find((entry) => entry.number === caller);
    const credentials = parseDigest(header(invite, 'Proxy-Authorization'));
    if (!credentials) {
      const nonce = randomBytes(12).toString('hex');
      this.nonces.add(nonce);
      const challenge = `Digest realm="${REALM}", nonce="${nonce}", qop="auth", algorithm=${this.options.digestAlgorithm}`;
      send(
        responseTo(invite, 407, 'Proxy Authentication Required', {
          toTag: tag(),
          headers: [['Proxy-Authenticate', challenge]],
        }),
      );
      return;
    }
    if (
      !number ||
      credentials.username !== number.number ||
      !this.nonces.has(credentials.nonce ?? '') ||
      credentials.response !==
        digestResponse(credentials, number.password, 'INVITE', this.options.digestAlgorithm)
    ) {
      send(responseTo(invite, 403, 'Forbidden', { toTag: tag() }));
      return;
    }
    const fromHost = hostOf(header(invite, 'From'));
    if (fromHost !== number.sipHostname) {
      send(responseTo(invite, 403, `SIP server ${fromHost} does not match`, { toTag: tag() }));
      return;
    }
    send(responseTo(invite, 100, 'Trying'));
    const callee = userOf(invite.startLine.split(' ')[1]) ?? '';
    const { host, port } = this.options.user;
    const user = this.udpLeg(
      `<sip:${caller}@127.0.0.1:${this.udpPort}>;tag=${tag()}`,
      `<sip:${callee}@${host}:${port}>`,
      `sip:${callee}@${host}:${port}`,
      { host, port },
    );
    const gateway: Leg = {
      transport: 'TLS',
      callId: header(invite, 'Call-ID') ?? '',
      local: `${header(invite, 'To')};tag=${tag()}`,
      remote: header(invite, 'From') ?? '',
      target: uriOf(header(invite, 'Contact')) ?? '',
      cseq: 1,
      send,
    };
    const outgoing = this.request(user, 'INVITE', [['Content-Type', 'application/sdp']], invite.body);
    this.open({
      wacid: wacid(),
      gateway,
      user,
      invite,
      from: 'gateway',
      outgoing,
      answeredAt: null,
      over: false,
    });
  }

  private responseFromGateway(response: SipText): void {
    const relay = this.relays.get(header(response, 'Call-ID') ?? '');
    if (relay?.from !== 'user' || methodOf(response) !== 'INVITE') return;
    this.relayResponse(relay, response, relay.gateway);
  }

  // ---- the WhatsApp user's side ----

  private fromUser(message: SipText, from: RemoteInfo): void {
    const send = (text: string): void => this.udp.send(text, from.port, from.address);
    if (!isRequest(message)) {
      const relay = this.relays.get(header(message, 'Call-ID') ?? '');
      if (relay && relay.from === 'gateway' && methodOf(message) === 'INVITE')
        this.relayResponse(relay, message, relay.user);
      return;
    }
    const method = methodOf(message);
    const relay = this.relays.get(header(message, 'Call-ID') ?? '');
    if (method === 'ACK') return;
    if (method === 'BYE' && relay) {
      send(responseTo(message, 200, 'OK'));
      this.hangUp(relay, 'user');
      return;
    }
    if (method === 'INVITE' && !relay && this.nextUserCall) {
      send(responseTo(message, 100, 'Trying'));
      void this.userInvite(message, send);
      return;
    }
    send(responseTo(message, method === 'INVITE' ? 403 : 481, 'Not here'));
  }

  /** A user-initiated call: over TLS to the gateway, with Meta's x-wa-meta-* headers. */
  private async userInvite(invite: SipText, send: (text: string) => void): Promise<void> {
    const armed = this.nextUserCall;
    if (!armed) return;
    this.nextUserCall = null;
    const socket = await this.connectGateway();
    const to = userOf(invite.startLine.split(' ')[1]) ?? '';
    const { host, port } = this.options.gateway;
    const gateway: Leg = {
      transport: 'TLS',
      callId: `${randomBytes(8).toString('hex')}@wa.meta.vc`,
      local: `<sip:${armed.from}@wa.meta.vc>;tag=${tag()}`,
      remote: `<sip:${to}@wa.meta.vc>`,
      target: `sip:${to}@${host}:${port};transport=tls`,
      cseq: 1,
      send: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
    };
    const user: Leg = {
      transport: 'UDP',
      callId: header(invite, 'Call-ID') ?? '',
      local: `${header(invite, 'To')};tag=${tag()}`,
      remote: header(invite, 'From') ?? '',
      target: uriOf(header(invite, 'Contact')) ?? '',
      cseq: 1,
      send,
    };
    const id = wacid();
    const headers: [string, string][] = [
      ['Content-Type', 'application/sdp'],
      ['x-wa-meta-wacid', id],
      ...Object.entries(armed.headers),
    ];
    const outgoing = this.request(gateway, 'INVITE', headers, invite.body);
    this.lastInviteToGateway = outgoing;
    this.open({ wacid: id, gateway, user, invite, from: 'user', outgoing, answeredAt: null, over: false });
  }

  private async connectGateway(): Promise<TLSSocket> {
    const { host, port } = this.options.gateway;
    // No ALPN, as Meta; the gateway's certificate is a test one, so it is not checked here.
    const socket = tlsConnect({ host, port, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    this.onGatewaySocket(socket);
    return socket;
  }

  // ---- relaying ----

  private open(relay: Relay): void {
    this.relays.set(relay.gateway.callId, relay);
    this.relays.set(relay.user.callId, relay);
  }

  /** A response to our INVITE on `leg`, passed back to whoever sent the call's INVITE. */
  private relayResponse(relay: Relay, response: SipText, leg: Leg): void {
    const status = statusOf(response);
    if (status < 101) return;
    const theirTag = tagOf(header(response, 'To'));
    if (theirTag && !tagOf(leg.remote)) leg.remote = `${leg.remote};tag=${theirTag}`;
    const back = relay.from === 'gateway' ? relay.gateway : relay.user;
    const toTag = tagOf(back.local);
    const extra: [string, string][] = [['Contact', this.contactFor(relay.from)]];
    if (relay.from === 'gateway') extra.push(['x-wa-meta-wacid', relay.wacid]);
    if (response.body) extra.push(['Content-Type', 'application/sdp']);
    if (status >= 200 && status < 300) {
      if (relay.answeredAt !== null) return;
      leg.target = uriOf(header(response, 'Contact')) ?? leg.target;
      relay.answeredAt = Date.now();
      this.request(leg, 'ACK', [], '', header(response, 'CSeq')?.split(' ')[0]);
    } else if (status >= 300) {
      this.ackFailure(relay, response, leg);
      relay.over = true;
    }
    back.send(
      responseTo(relay.invite, status, reasonOf(response), {
        ...(toTag ? { toTag } : {}),
        headers: extra,
        body: response.body,
      }),
    );
  }

  private hangUp(relay: Relay, by: 'gateway' | 'user'): void {
    if (relay.over) return;
    relay.over = true;
    const other = by === 'gateway' ? relay.user : relay.gateway;
    const headers: [string, string][] = [];
    if (other === relay.gateway) {
      const seconds = relay.answeredAt === null ? 0 : Math.round((Date.now() - relay.answeredAt) / 1000);
      headers.push(['x-wa-meta-wacid', relay.wacid], ['x-wa-meta-call-duration', String(seconds)]);
    }
    this.request(other, 'BYE', headers);
    this.emit('ended', { by });
  }

  private cancel(relay: Relay, leg: Leg): void {
    const via = header(relay.outgoing, 'Via') ?? '';
    const cseq = header(relay.outgoing, 'CSeq')?.split(' ')[0] ?? '1';
    leg.send(
      writeSip(`CANCEL ${relay.outgoing.startLine.split(' ')[1]} SIP/2.0`, [
        ['Via', via],
        ['Max-Forwards', '70'],
        ['From', header(relay.outgoing, 'From') ?? ''],
        ['To', header(relay.outgoing, 'To') ?? ''],
        ['Call-ID', leg.callId],
        ['CSeq', `${cseq} CANCEL`],
      ]),
    );
  }

  /** A failure's ACK is part of the INVITE transaction: its Via branch, the response's To. */
  private ackFailure(relay: Relay, response: SipText, leg: Leg): void {
    const cseq = header(relay.outgoing, 'CSeq')?.split(' ')[0] ?? '1';
    leg.send(
      writeSip(`ACK ${relay.outgoing.startLine.split(' ')[1]} SIP/2.0`, [
        ['Via', header(relay.outgoing, 'Via') ?? ''],
        ['Max-Forwards', '70'],
        ['From', header(relay.outgoing, 'From') ?? ''],
        ['To', header(response, 'To') ?? ''],
        ['Call-ID', leg.callId],
        ['CSeq', `${cseq} ACK`],
      ]),
    );
  }

  /** A new request of ours into a leg; returns it as sent. */
  private request(leg: Leg, method: string, headers: [string, string][], body = '', cseq?: string): SipText {
    const viaTransport = leg.transport;
    const number = method === 'ACK' && cseq ? Number(cseq) : leg.cseq++;
    const port = viaTransport === 'TLS' ? this.tlsPort : this.udpPort;
    const lines: [string, string][] = [
      [
        'Via',
        `SIP/2.0/${viaTransport} 127.0.0.1:${port};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`,
      ],
      ['Max-Forwards', '70'],
      ['From', leg.local],
      ['To', leg.remote],
      ['Call-ID', leg.callId],
      ['CSeq', `${number} ${method}`],
      ['Contact', this.contactFor(viaTransport === 'TLS' ? 'gateway' : 'user')],
      ...headers,
    ];
    const text = writeSip(`${method} ${leg.target} SIP/2.0`, lines, body);
    leg.send(text);
    return parseSip(text) as SipText;
  }

  private udpLeg(local: string, remote: string, target: string, to: { host: string; port: number }): Leg {
    return {
      transport: 'UDP',
      callId: `${randomBytes(8).toString('hex')}@edge`,
      local,
      remote,
      target,
      cseq: 1,
      send: (text) => this.udp.send(text, to.port, to.host),
    };
  }

  /** Our Contact toward a side: TLS toward the gateway, UDP toward the user's phone. */
  private contactFor(answering: 'gateway' | 'user'): string {
    return answering === 'gateway'
      ? `<sip:edge@127.0.0.1:${this.tlsPort};transport=tls>`
      : `<sip:edge@127.0.0.1:${this.udpPort}>`;
  }
}

function tag(): string {
  return randomBytes(5).toString('hex');
}

function wacid(): string {
  return `wacid.${randomBytes(12).toString('base64url')}`;
}

function reasonOf(response: SipText): string {
  return response.startLine.split(' ').slice(2).join(' ') || 'Unknown';
}

function parseDigest(value: string | undefined): Record<string, string> | null {
  if (!value?.startsWith('Digest ')) return null;
  const params: Record<string, string> = {};
  for (const match of value.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) {
    params[(match[1] ?? '').toLowerCase()] = match[2] ?? match[3] ?? '';
  }
  return params;
}

/** RFC 7616 / RFC 2617 with qop=auth, computed here independently of the gateway's own code. */
function digestResponse(
  params: Record<string, string>,
  password: string,
  method: string,
  algorithm: 'SHA-256' | 'MD5',
): string {
  const hash = (text: string): string =>
    createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
      .update(text)
      .digest('hex');
  const ha1 = hash(`${params.username}:${params.realm}:${password}`);
  const ha2 = hash(`${method}:${params.uri}`);
  return hash(`${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:${params.qop}:${ha2}`);
}
