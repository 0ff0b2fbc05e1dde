import type { AgentFleet } from './agentFleet.js';
import { percentile, round } from './audioProbe.js';
import type { BenchCall } from './benchCall.js';

interface Spread {
  /** Each burst's delay in ms, in the order sent. */
  values: number[];
  heard: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
}

export interface LatencyFigures {
  bursts: number;
  /** One-way latency in ms from a burst's first sample sent to its first sample heard. */
  sipToRoom: Spread;
  roomToSip: Spread;
  /**
   * The same room bursts heard by a second participant in the room: livekit-server and WebRTC
   * alone, the reference the gateway's paths are compared with.
   */
  roomToRoom: Spread;
  /** p50 of each gateway path less the room-to-room p50: what the gateway adds to a WebRTC hop. */
  gatewayAddedP50: { sipToRoom: number; roomToSip: number };
}

const BURST_MS = 200;
/** Quiet between bursts: longer than the detectors' 200 ms quiet rule plus any plausible latency. */
const GAP_MS = 800;

/**
 * Tone-burst onsets both ways on one call whose ends send silence: the caller's leg starts a
 * 1 kHz burst at a known wall-clock time and the room agent notes when its first loud sample
 * plays out; then the agent bursts and the caller's leg listens. Both ends count a frame's
 * samples as spanning the frame up to its hand-over, so the harness's own framing cancels out
 * and what remains is the gateway's path plus livekit-server's. A second participant hears the
 * agent's bursts through livekit-server alone, which gives the reference.
 */
export async function measureLatency(
  call: BenchCall,
  fleet: AgentFleet,
  bursts: number,
  reference: string,
): Promise<LatencyFigures> {
  const agent = call.sip.callId;
  const sentToRoom: number[] = [];
  const sentToSip: number[] = [];
  for (let i = 0; i < bursts; i++) {
    sentToRoom.push(await call.leg.burst(BURST_MS));
    await pause(BURST_MS + GAP_MS);
    sentToSip.push(await fleet.burst(agent, BURST_MS));
    await pause(BURST_MS + GAP_MS);
  }
  const { onsets } = await fleet.read();
  const sipToRoom = delays(sentToRoom, onsets[agent] ?? []);
  const roomToSip = delays(sentToSip, call.leg.probe.onsets);
  const roomToRoom = delays(sentToSip, onsets[reference] ?? []);
  return {
    bursts,
    sipToRoom,
    roomToSip,
    roomToRoom,
    gatewayAddedP50: {
      sipToRoom: round(sipToRoom.p50 - roomToRoom.p50),
      roomToSip: round(roomToSip.p50 - roomToRoom.p50),
    },
  };
}

function delays(sent: number[], heard: number[]): Spread {
  const values: number[] = [];
  for (const at of sent) {
    const onset = heard.find((h) => h >= at - 5 && h < at + GAP_MS);
    if (onset !== undefined) values.push(onset - at);
  }
  return {
    values: values.map((v) => round(v)),
    heard: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
