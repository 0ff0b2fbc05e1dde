import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DialFailed } from '../../../src/calls/callErrors.js';
import { type DialRequest, OutboundDialer } from '../../../src/calls/outbound/outboundDialer.js';
import { MediaSession } from '../../../src/media/workers/MediaSession.js';
import { MediaCommandError } from '../../../src/media/workers/mediaCommandError.js';
import type { SessionTransport } from '../../../src/media/workers/mediaSessionTypes.js';
import { refusalKind } from '../../../src/signalling/outbound/finalResponses.js';
import { OutboundTrunks } from '../../../src/signalling/outbound/outboundTrunks.js';
import type {
  InviteProgress,
  OutboundDialog,
  SendInvite,
} from '../../../src/signalling/outbound/uacInvite.js';

/**
 * The dialer's every way out, with a scripted trunk (srf.createUAC's promise and callbacks) and a
 * media session over a scripted worker channel: what it sends (CANCEL, BYE), what it releases,
 * and the one DialFailed it rejects with. Real SIP and media: test/integration/outbound*.test.ts.
 */
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const logger = pino({ level: 'silent' });
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A worker channel that answers each command as the test says. */
class ScriptedWorker implements SessionTransport {
  readonly commands: { method: string; params: any }[] = [];
  answerFails = false;
  joinFails = false;
  join: Promise<void> = Promise.resolve();

  async request(method: string, params: any): Promise<any> {
    this.commands.push({ method, params });
    if (method === 'applyRemoteAnswer') {
      if (this.answerFails)
        throw new MediaCommandError('sdp_not_acceptable', 'no common codec', 'applyRemoteAnswer');
      return { media: {} };
    }
    if (method === 'connectRoom') {
      await this.join;
      if (this.joinFails) throw new MediaCommandError('internal', 'could not join', 'connectRoom');
      return { participantSid: null };
    }
    if (method === 'closeSession') return { closed: true, stats: null };
    throw new Error(`unexpected ${method}`);
  }

  did(method: string): any[] {
    return this.commands.filter((c) => c.method === method).map((c) => c.params);
  }
}

/** srf.createUAC as a script: the test says when the INVITE went out, rang, was answered or refused. */
class ScriptedTrunk {
  uri: string | undefined;
  headers: Record<string, string> | undefined;
  progress: InviteProgress | undefined;
  cancels = 0;
  byes = 0;
  private settle: { resolve(dialog: OutboundDialog): void; reject(error: unknown): void } | undefined;
  readonly request = {
    stackTxnId: 'txn-1',
    uri: 'sip:+15550100@127.0.0.1:5080',
    get: (header: string) => (header === 'Call-ID' ? 'sip-call-1' : undefined),
    cancel: () => void this.cancels++,
  };

  readonly send: SendInvite = (uri, options, progress) => {
    this.uri = uri;
    this.headers = options.headers;
    this.progress = progress;
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  };

  sent(): void {
    this.progress?.cbRequest(null, this.request);
  }

  provisional(status: number): void {
    this.progress?.cbProvisional({ status });
  }

  answer(): void {
    this.settle?.resolve({
      id: 'dialog-1',
      sip: { callId: 'sip-call-1' },
      remote: { sdp: 'v=0 answer' },
      on: () => undefined,
      destroy: () => {
        this.byes++;
        return Promise.resolve();
      },
    } as unknown as OutboundDialog);
  }

  refuse(status: number): void {
    this.settle?.reject(Object.assign(new Error(`${status}`), { status, reason: 'Refused' }));
  }

  fail(message: string): void {
    this.settle?.reject(new Error(message));
  }
}

function rig(options: { noSession?: boolean; sessionTimers?: boolean } = {}) {
  const worker = new ScriptedWorker();
  const trunk = new ScriptedTrunk();
  const session = new MediaSession('ms_1', 0, worker);
  const dialer = new OutboundDialer({
    trunks: new OutboundTrunks({
      trunks: [
        {
          name: 'carrier',
          kind: 'pstn',
          sourceAddresses: ['127.0.0.1'],
          inboundAuth: null,
          outbound: { host: '127.0.0.1', port: 5080, transport: 'udp' },
          registration: null,
          media: { encryption: 'none', policy: 'required' },
        },
      ],
      apps: [{ appId: APP, outboundTrunk: 'carrier' }],
    }),
    invite: trunk.send,
    media: {
      createSession: async () => {
        if (options.noSession)
          throw new MediaCommandError('capacity', 'every worker is full', 'createSession');
        return { session, localSdp: 'v=0 offer', type: 'offer', rtpPort: 20000, media: null };
      },
    },
    rooms: {
      tokens: { participantToken: async () => 'jwt' } as never,
      connection: { url: 'ws://livekit.test', apiKey: 'k', apiSecret: 's' },
    },
    logger,
    ...(options.sessionTimers ? { sessionTimers: { expiresSeconds: 1800, minSeSeconds: 90 } } : {}),
  });
  const abort = new AbortController();
  let rang = 0;
  const sent: string[] = [];
  const sessions: MediaSession[] = [];
  const request: DialRequest = {
    appId: APP,
    from: '+15550100',
    to: '+442071838750',
    roomName: 'call-x',
    identity: 'sip_call_x',
    callId: 'call_x',
    ringTimeoutMs: 5_000,
    signal: abort.signal,
    onRinging: () => void rang++,
    onInviteSent: (sipCallId) => void sent.push(sipCallId),
    onSession: (created) => void sessions.push(created),
  };
  return { worker, trunk, session, dialer, abort, request, rang: () => rang, sent, sessions };
}

/** The dial's DialFailed (the test fails if it connects). */
async function failure(dialing: Promise<unknown>): Promise<DialFailed> {
  const outcome = await dialing.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(DialFailed);
  return outcome as DialFailed;
}

describe('OutboundDialer', () => {
  it('sends the INVITE through the trunk, rings once on 18x, and on 200 applies the answer and joins the room', async () => {
    const { dialer, trunk, worker, session, request, rang, sent, sessions } = rig();
    const dialing = dialer.dial(request);
    await tick();
    expect(trunk.uri).toBe('sip:+442071838750@127.0.0.1:5080;transport=udp');
    expect(trunk.headers?.From).toBe('<sip:+15550100@127.0.0.1>');
    expect(sessions).toEqual([session]);
    trunk.sent();
    expect(sent).toEqual(['sip-call-1']);
    trunk.provisional(100);
    expect(rang()).toBe(0);
    trunk.provisional(180);
    trunk.provisional(183);
    expect(rang()).toBe(1);
    trunk.answer();
    const leg = await dialing;
    expect(leg).toMatchObject({ session, trunk: 'carrier', sipCallId: 'sip-call-1' });
    expect(worker.did('applyRemoteAnswer')).toEqual([{ sessionId: 'ms_1', sdp: 'v=0 answer' }]);
    expect(worker.did('connectRoom')[0]).toMatchObject({
      roomName: 'call-x',
      identity: 'sip_call_x',
      attributes: {
        'sip.callId': 'call_x',
        'sip.from': '+15550100',
        'sip.to': '+442071838750',
        'sip.trunk': 'carrier',
        'sip.direction': 'outbound',
      },
    });
    expect(session.closed).toBe(false);
    expect(trunk.cancels + trunk.byes).toBe(0);
  });

  it('offers session timers on a PSTN INVITE when they are on (RFC 4028), none when off', async () => {
    const on = rig({ sessionTimers: true });
    void failure(on.dialer.dial(on.request));
    await tick();
    expect(on.trunk.headers).toMatchObject({
      Supported: '100rel, timer',
      'Session-Expires': '1800',
      'Min-SE': '90',
    });
    on.abort.abort();
    const off = rig();
    void failure(off.dialer.dial(off.request));
    await tick();
    expect(off.trunk.headers).not.toHaveProperty('Session-Expires');
    off.abort.abort();
  });

  it.each([
    [486, 'busy'],
    [600, 'busy'],
    [408, 'no_answer'],
    [480, 'no_answer'],
    [487, 'no_answer'],
    [603, 'declined'],
    [404, 'trunk_error'],
    [407, 'trunk_error'],
    [503, 'trunk_error'],
    [302, 'trunk_error'],
  ])('a final %i is %s, with the code kept, and releases the media session', async (status, outcome) => {
    expect(refusalKind(status)).toBe(outcome);
    const { dialer, trunk, session, request } = rig();
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.sent();
    trunk.refuse(status);
    expect(await failing).toMatchObject({ outcome, sipStatus: status });
    expect(session.closed).toBe(true);
    expect(trunk.cancels).toBe(0);
  });

  it('a failure without a final response (the SIP server could not send it) is a trunk_error', async () => {
    const { dialer, trunk, session, request } = rig();
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.fail('cannot send request: no route');
    expect(await failing).toMatchObject({ outcome: 'trunk_error', sipStatus: null });
    expect(session.closed).toBe(true);
  });

  it('cancels at the ring timeout, and the 487 that follows changes nothing', async () => {
    const { dialer, trunk, session, request } = rig();
    const failing = failure(dialer.dial({ ...request, ringTimeoutMs: 30 }));
    await tick();
    trunk.sent();
    trunk.provisional(180);
    expect(await failing).toMatchObject({ outcome: 'ring_timeout', sipStatus: null });
    expect(trunk.cancels).toBe(1);
    expect(session.closed).toBe(true);
    trunk.refuse(487);
    await tick();
    expect(trunk.cancels + trunk.byes).toBe(1);
  });

  it('given up while ringing: CANCEL at once; a 200 that crosses the CANCEL gets a BYE', async () => {
    const { dialer, trunk, session, request, abort } = rig();
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.sent();
    trunk.provisional(180);
    abort.abort();
    expect(await failing).toMatchObject({ outcome: 'canceled' });
    expect(trunk.cancels).toBe(1);
    expect(session.closed).toBe(true);
    trunk.answer();
    await tick();
    expect(trunk.byes).toBe(1);
  });

  it('given up before the SIP server confirmed the INVITE: the CANCEL goes once it has', async () => {
    const { dialer, trunk, request, abort } = rig();
    const failing = failure(dialer.dial(request));
    await tick();
    abort.abort();
    expect(await failing).toMatchObject({ outcome: 'canceled' });
    expect(trunk.cancels).toBe(0);
    trunk.sent();
    expect(trunk.cancels).toBe(1);
  });

  it('given up before anything was sent: no media session, no INVITE', async () => {
    const { dialer, trunk, worker, request, abort } = rig();
    abort.abort();
    expect(await failure(dialer.dial(request))).toMatchObject({ outcome: 'canceled' });
    expect(trunk.uri).toBeUndefined();
    expect(worker.commands).toEqual([]);
  });

  it('given up after the 200 while the room is still being joined: BYE, the session closed', async () => {
    const { dialer, trunk, worker, session, request, abort } = rig();
    let joined: () => void = () => undefined;
    worker.join = new Promise((resolve) => {
      joined = resolve;
    });
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.sent();
    trunk.answer();
    await tick();
    abort.abort();
    expect(await failing).toMatchObject({ outcome: 'canceled' });
    expect(trunk.byes).toBe(1);
    expect(session.closed).toBe(true);
    joined();
  });

  it('a room that cannot be joined while ringing cancels the call: media_error', async () => {
    const { dialer, trunk, worker, session, request } = rig();
    worker.joinFails = true;
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.sent();
    expect(await failing).toMatchObject({ outcome: 'media_error' });
    expect(trunk.cancels).toBe(1);
    expect(session.closed).toBe(true);
  });

  it('a media session that ends while ringing (its worker died) cancels the call: media_error', async () => {
    const { dialer, trunk, session, request } = rig();
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.sent();
    trunk.provisional(180);
    session.markClosed({ reason: 'media_error', message: 'worker died' });
    expect(await failing).toMatchObject({ outcome: 'media_error' });
    expect(trunk.cancels).toBe(1);
  });

  it('an answer the media session cannot take: BYE, media_error', async () => {
    const { dialer, trunk, worker, session, request } = rig();
    worker.answerFails = true;
    const failing = failure(dialer.dial(request));
    await tick();
    trunk.sent();
    trunk.answer();
    expect(await failing).toMatchObject({ outcome: 'media_error', sipStatus: null });
    expect(trunk.byes).toBe(1);
    expect(session.closed).toBe(true);
  });

  it('no media session: media_error, and no INVITE goes out', async () => {
    const { dialer, trunk, request } = rig({ noSession: true });
    expect(await failure(dialer.dial(request))).toMatchObject({ outcome: 'media_error' });
    expect(trunk.uri).toBeUndefined();
  });

  it('an app without an outbound trunk: trunk_error before anything is set up', async () => {
    const { dialer, trunk, worker, request } = rig();
    expect(dialer.canDial('app_3ZrQ8mWJvQpO8F0pQd3yZ8uYw1X')).toBe(false);
    const failed = await failure(dialer.dial({ ...request, appId: 'app_3ZrQ8mWJvQpO8F0pQd3yZ8uYw1X' }));
    expect(failed).toMatchObject({ outcome: 'trunk_error', sipStatus: null });
    expect(trunk.uri).toBeUndefined();
    expect(worker.commands).toEqual([]);
  });
});
