import type { ProbeWindow } from './audioProbe.js';

/** Requests from the benchmark to its room-agent process; each is answered under its `seq`. */
export type AgentRequest =
  | { kind: 'join'; agent: string; url: string; token: string; listenTo: string; signal: 'tone' | 'silence' }
  | { kind: 'burst'; agent: string; durationMs: number }
  | { kind: 'reset' }
  | { kind: 'read' }
  | { kind: 'leave'; agent: string };

export interface AgentWindow extends ProbeWindow {
  agent: string;
  /** False until the gateway's participant track was subscribed. */
  hearing: boolean;
}

export interface AgentReadout {
  agents: AgentWindow[];
  /** Burst onsets heard, per agent, on the wall clock. */
  onsets: Record<string, number[]>;
  /** The agent process's own event-loop delay over the window (ms), to tell its stalls from the gateway's. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type AgentReply =
  | { seq: number; ok: true; result?: AgentReadout | number }
  | { seq: number; ok: false; error: string };
