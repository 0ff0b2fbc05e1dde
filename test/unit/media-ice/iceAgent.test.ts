import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { IceAgent } from '../../../src/media/ice/iceAgent.js';
import { hostCandidate } from '../../../src/media/ice/iceCandidate.js';
import { newIceCredentials } from '../../../src/media/ice/iceCredentials.js';
import type { IceAgentOptions, IceRemoteDescription, IceRole } from '../../../src/media/ice/iceTypes.js';
import {
  decodeStun,
  encodeStun,
  hasValidFingerprint,
  isStunPacket,
  newTransactionId,
  STUN_BINDING,
  type StunMessage,
  verifyIntegrity,
} from '../../../src/media/ice/stunMessage.js';
import type { RtpEndpoint } from '../../../src/media/sdp/sdpTypes.js';
import { IceLitePeer } from '../../support/iceLitePeer.js';

/** One call's socket with an agent on it, wired the way the media worker wires them. */
interface Side {
  socket: Socket;
  agent: IceAgent;
  endpoint: RtpEndpoint;
  description(): IceRemoteDescription;
}

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

async function boundSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let open = true;
  socket.on('close', () => {
    open = false;
  });
  cleanup.push(() => (open ? new Promise<void>((resolve) => socket.close(() => resolve())) : undefined));
  return socket;
}

async function side(role: IceRole, options: Partial<IceAgentOptions> = {}): Promise<Side> {
  const socket = await boundSocket();
  const endpoint = { address: '127.0.0.1', port: socket.address().port };
  const local = newIceCredentials();
  const candidate = hostCandidate(endpoint.address, endpoint.port);
  const agent = new IceAgent({
    local,
    localCandidate: candidate,
    role,
    send: (data, to) => socket.send(data, to.port, to.address),
    ...options,
  });
  cleanup.push(() => agent.close());
  // RFC 7983 demultiplexing, as the media worker does it: STUN goes to the agent.
  socket.on('message', (data, rinfo) => {
    if (isStunPacket(data)) agent.handleStun(data, { address: rinfo.address, port: rinfo.port });
  });
  return {
    socket,
    agent,
    endpoint,
    description: () => ({ credentials: agent.localCredentials, candidates: [candidate], lite: false }),
  };
}

async function litePeer(): Promise<IceLitePeer> {
  const peer = await IceLitePeer.start(newIceCredentials());
  cleanup.push(() => peer.close());
  return peer;
}

const selected = (agent: IceAgent): Promise<[RtpEndpoint]> =>
  once(agent, 'selected') as Promise<[RtpEndpoint]>;

/** A wait on purpose: proving that nothing happens takes time in which it would have happened. */
const quietPeriod = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('answering binding requests', () => {
  /** Sends one request from a plain socket and returns the decoded answer with its bytes. */
  async function ask(to: RtpEndpoint, request: StunMessage, password?: string) {
    const socket = await boundSocket();
    const answer = once(socket, 'message') as Promise<[Buffer]>;
    socket.send(encodeStun(request, password === undefined ? {} : { password }), to.port, to.address);
    const [raw] = await answer;
    return { raw, message: decodeStun(raw), from: { address: '127.0.0.1', port: socket.address().port } };
  }
  const request = (username?: string): StunMessage => ({
    class: 'request',
    method: STUN_BINDING,
    transactionId: newTransactionId(),
    username,
    priority: 1853824767,
    iceControlled: 5n,
  });

  it('an authentic request gets XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY with our pwd and FINGERPRINT', async () => {
    const a = await side('controlling');
    const { ufrag, pwd } = a.agent.localCredentials;
    const sent = request(`${ufrag}:them`);
    const { raw, message, from } = await ask(a.endpoint, sent, pwd);
    expect(message?.class).toBe('success');
    expect(message?.transactionId).toEqual(sent.transactionId);
    expect(message?.xorMappedAddress).toEqual(from);
    expect(message && verifyIntegrity(message, raw, pwd)).toBe(true);
    expect(message && hasValidFingerprint(message, raw)).toBe(true);
  });

  it("a wrong password or someone else's ufrag gets 401, a request without credentials 400", async () => {
    const a = await side('controlling');
    const { ufrag, pwd } = a.agent.localCredentials;
    expect(
      (await ask(a.endpoint, request(`${ufrag}:them`), 'not-the-password')).message?.errorCode?.code,
    ).toBe(401);
    expect((await ask(a.endpoint, request('someone:them'), pwd)).message?.errorCode?.code).toBe(401);
    expect((await ask(a.endpoint, request())).message?.errorCode?.code).toBe(400);
  });

  it('a controlling request with a smaller tie-breaker than ours gets 487', async () => {
    const a = await side('controlling', { tieBreaker: 100n });
    const { ufrag, pwd } = a.agent.localCredentials;
    const conflicting: StunMessage = {
      ...request(`${ufrag}:them`),
      iceControlled: undefined,
      iceControlling: 50n,
    };
    const { raw, message } = await ask(a.endpoint, conflicting, pwd);
    expect(message?.errorCode?.code).toBe(487);
    expect(message && verifyIntegrity(message, raw, pwd)).toBe(true);
    expect(a.agent.role).toBe('controlling');
  });
});

describe('two full agents', () => {
  it('controlling and controlled select the same pair on both sides', async () => {
    const a = await side('controlling');
    const b = await side('controlled');
    const selections = Promise.all([selected(a.agent), selected(b.agent)]);
    a.agent.setRemote(b.description());
    b.agent.setRemote(a.description());
    const [[fromA], [fromB]] = await selections;
    expect(fromA).toEqual(b.endpoint);
    expect(fromB).toEqual(a.endpoint);
    expect(a.agent.selectedPair).toEqual(b.endpoint);
    expect(b.agent.selectedPair).toEqual(a.endpoint);
    expect([a.agent.role, b.agent.role]).toEqual(['controlling', 'controlled']);
  });

  it('both configured controlling: the role conflict is settled by tie-breaker and both still select', async () => {
    const a = await side('controlling', { tieBreaker: 1n });
    const b = await side('controlling', { tieBreaker: 2n });
    const selections = Promise.all([selected(a.agent), selected(b.agent)]);
    a.agent.setRemote(b.description());
    b.agent.setRemote(a.description());
    const [[fromA], [fromB]] = await selections;
    expect(fromA).toEqual(b.endpoint);
    expect(fromB).toEqual(a.endpoint);
    // The larger tie-breaker keeps controlling (RFC 8445 §7.3.1.1).
    expect([a.agent.role, b.agent.role]).toEqual(['controlled', 'controlling']);
  });

  it('both configured controlled: the larger tie-breaker takes control and both select', async () => {
    const a = await side('controlled', { tieBreaker: 9n });
    const b = await side('controlled', { tieBreaker: 3n });
    const selections = Promise.all([selected(a.agent), selected(b.agent)]);
    a.agent.setRemote(b.description());
    b.agent.setRemote(a.description());
    await selections;
    expect([a.agent.role, b.agent.role]).toEqual(['controlling', 'controlled']);
  });

  it('checks arriving before setRemote are answered, and their pair checked once it comes', async () => {
    const a = await side('controlling');
    const b = await side('controlled');
    const selections = Promise.all([selected(a.agent), selected(b.agent)]);
    const firstCheck = once(b.socket, 'message');
    a.agent.setRemote(b.description());
    await firstCheck;
    b.agent.setRemote(a.description());
    await selections;
    expect(b.agent.selectedPair).toEqual(a.endpoint);
  });

  it('consent is lost once the peer socket closes after selection', async () => {
    const timers = { consentIntervalMs: 40, consentTimeoutMs: 300 };
    const a = await side('controlling', { timers });
    const b = await side('controlled', { timers });
    const selections = Promise.all([selected(a.agent), selected(b.agent)]);
    a.agent.setRemote(b.description());
    b.agent.setRemote(a.description());
    await selections;
    const lost = once(a.agent, 'consentLost');
    b.agent.close();
    b.socket.close();
    const [reason] = (await lost) as [string];
    expect(reason).toMatch(/300 ms/);
    expect(a.agent.selectedPair).toBeNull();
  });

  it('wrong passwords on both sides: nothing is selected and both fail after failAfterMs', async () => {
    const timers = { failAfterMs: 600, checkRetransmitMs: 50 };
    const a = await side('controlling', { timers });
    const b = await side('controlled', { timers });
    let selections = 0;
    for (const s of [a, b]) s.agent.on('selected', () => selections++);
    const failures = Promise.all([once(a.agent, 'failed'), once(b.agent, 'failed')]);
    const started = Date.now();
    a.agent.setRemote({
      ...b.description(),
      credentials: { ...b.agent.localCredentials, pwd: 'x'.repeat(22) },
    });
    b.agent.setRemote({
      ...a.description(),
      credentials: { ...a.agent.localCredentials, pwd: 'y'.repeat(22) },
    });
    await failures;
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(selections).toBe(0);
    expect(a.agent.selectedPair).toBeNull();
    expect(b.agent.selectedPair).toBeNull();
  });
});

describe('against an ice-lite peer', () => {
  it('a controlling agent checks, nominates with USE-CANDIDATE and selects', async () => {
    const peer = await litePeer();
    const a = await side('controlling');
    const nominated = once(peer, 'nominated');
    const selection = selected(a.agent);
    a.agent.setRemote(peer.description());
    const [[endpoint], [nominator, request]] = (await Promise.all([selection, nominated])) as [
      [RtpEndpoint],
      [RtpEndpoint, { iceControlling?: bigint; username?: string }],
    ];
    expect(endpoint).toEqual(peer.endpoint);
    expect(nominator).toEqual(a.endpoint);
    expect(request.iceControlling).toBeDefined();
    expect(request.username).toBe(`${peer.credentials.ufrag}:${a.agent.localCredentials.ufrag}`);
  });

  it('an agent configured controlled still takes control, since a lite peer never does', async () => {
    const peer = await litePeer();
    const a = await side('controlled');
    const selection = selected(a.agent);
    a.agent.setRemote(peer.description());
    expect(a.agent.role).toBe('controlling');
    await selection;
    expect(peer.nominatedBy).toEqual(a.endpoint);
  });

  it('a wrong password gets no selection, and failed after failAfterMs', async () => {
    const peer = await litePeer();
    const a = await side('controlling', { timers: { failAfterMs: 500, checkRetransmitMs: 50 } });
    let selections = 0;
    a.agent.on('selected', () => selections++);
    const started = Date.now();
    const failed = once(a.agent, 'failed');
    a.agent.setRemote(peer.description({ ufrag: peer.credentials.ufrag, pwd: 'z'.repeat(22) }));
    await failed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(490);
    expect(selections).toBe(0);
    expect(peer.nominatedBy).toBeNull();
  });

  it('an ICE restart checks and nominates again with the new credentials, keeping the same pair quietly', async () => {
    const peer = await litePeer();
    const a = await side('controlling');
    let selections = 0;
    a.agent.on('selected', () => selections++);
    const first = selected(a.agent);
    a.agent.setRemote(peer.description());
    await first;
    peer.credentials = newIceCredentials();
    const local = newIceCredentials();
    const renominated = once(peer, 'nominated');
    a.agent.setRemote(peer.description(), local);
    const [, request] = (await renominated) as [RtpEndpoint, { username?: string }];
    expect(request.username).toBe(`${peer.credentials.ufrag}:${local.ufrag}`);
    expect(a.agent.localCredentials).toEqual(local);
    expect(a.agent.selectedPair).toEqual(peer.endpoint);
    expect(selections).toBe(1);
  });

  it('close() after selection stops consent requests: nothing more reaches the peer', async () => {
    const peer = await litePeer();
    const a = await side('controlling', { timers: { consentIntervalMs: 20 } });
    const selection = selected(a.agent);
    a.agent.setRemote(peer.description());
    await selection;
    // Wait for a few consent requests, so sending is known to be going on before close.
    await new Promise<void>((resolve) => {
      let seen = 0;
      peer.on('request', () => {
        if (++seen === 3) resolve();
      });
    });
    a.agent.close();
    a.agent.close();
    const count = peer.datagrams;
    await quietPeriod(200);
    expect(peer.datagrams).toBe(count);
  });

  it('close() while checking stops checks and the failure timer', async () => {
    // A peer that never answers: checks would be retransmitted for as long as the agent runs.
    const silent = await boundSocket();
    let datagrams = 0;
    silent.on('message', () => datagrams++);
    const a = await side('controlling', { timers: { checkRetransmitMs: 20, failAfterMs: 150 } });
    let events = 0;
    for (const name of ['selected', 'failed', 'consentLost'] as const) a.agent.on(name, () => events++);
    const firstCheck = once(silent, 'message');
    a.agent.setRemote({
      credentials: newIceCredentials(),
      candidates: [hostCandidate('127.0.0.1', silent.address().port)],
      lite: false,
    });
    await firstCheck;
    a.agent.close();
    const count = datagrams;
    await quietPeriod(300);
    expect(datagrams).toBe(count);
    expect(events).toBe(0);
  });
});
