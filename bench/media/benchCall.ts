import type { CodecName } from '../../src/media/codecs/codecTypes.js';
import { ROUTED_NUMBER } from '../../test/support/gatewayApi.js';
import type { AgentFleet } from './agentFleet.js';
import type { BenchStack } from './benchStack.js';
import { type LegSignal, RtpLeg } from './rtpLeg.js';
import type { OutgoingCall, SipCaller } from './sipCaller.js';

export interface BenchCall {
  callId: string;
  leg: RtpLeg;
  sip: OutgoingCall;
  /** Milliseconds: INVITE sent → 180 and → 200 at the caller; accept sent → 200 at the caller. */
  inviteToRinging: number;
  inviteToOk: number;
  acceptToOk: number;
  hangup(): Promise<void>;
}

/**
 * One benchmark call end to end: our RTP leg offers one codec, the SIP caller sends the INVITE, the
 * control plane accepts as soon as it rings, and an agent joins the call's room with a token from
 * the API. Resolves once the agent is in the room; the caller's leg is then ticking.
 */
export async function placeCall(deps: {
  index: number;
  signal: LegSignal;
  codec: CodecName;
  stack: BenchStack;
  caller: SipCaller;
  fleet: AgentFleet;
  /** Starts (and on hangup stops) the leg's 20 ms ticks on the shared clock. */
  clock: { add(tick: () => void): void; delete(tick: () => void): void };
}): Promise<BenchCall> {
  const { stack, fleet, clock } = deps;
  const leg = await RtpLeg.open(deps.codec);
  leg.setSignal(deps.signal);
  const tick = () => leg.tick();
  const from = `+1444${String(deps.index).padStart(6, '0')}`;
  const accepted = stack.acceptor.expect(from);
  // Awaited after the 200; a failed accept before then must not count as unhandled.
  accepted.catch(() => undefined);
  const sip = deps.caller.invite({ from, to: ROUTED_NUMBER, sdp: leg.offer() });
  let joined = false;
  const hangup = async () => {
    clock.delete(tick);
    await sip.hangup();
    if (joined) await fleet.leave(sip.callId).catch(() => undefined);
    leg.close();
  };
  try {
    const answer = await withDeadline(sip.answered, 60_000, `call ${from} not answered`);
    leg.useAnswer(answer);
    clock.add(tick);
    const { callId, acceptSentAt } = await withDeadline(accepted, 60_000, `call ${from} not accepted`);
    const grant = await stack.token(callId, 'agent');
    joined = true;
    await withDeadline(
      fleet.join({
        agent: sip.callId,
        url: grant.url,
        token: grant.token,
        listenTo: `sip_${callId}`,
        signal: deps.signal,
      }),
      60_000,
      `agent of ${callId} did not join its room`,
    );
    const answeredAt = sip.answeredAt ?? Number.NaN;
    return {
      callId,
      leg,
      sip,
      inviteToRinging: (sip.ringingAt ?? Number.NaN) - sip.invitedAt,
      inviteToOk: answeredAt - sip.invitedAt,
      acceptToOk: answeredAt - acceptSentAt,
      hangup,
    };
  } catch (error) {
    await hangup();
    throw error;
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
