import type { InboundRequest, InboundResponse } from './srfTypes.js';

/** What an OPTIONS probe is told: up, or draining (no new calls here, try another node). */
export interface ProbeState {
  draining(): boolean;
}

/** Methods the gateway takes, for a prober that reads Allow. */
const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY, REFER, UPDATE, PRACK';

/**
 * Answers OPTIONS outside a dialog, which proxies in front of several nodes (Kamailio's
 * dispatcher) send to learn which nodes take calls: 200 while this node does, 503 with
 * Retry-After once it drains, so the proxy stops choosing it while its live calls finish.
 */
export function answerOptions(state: ProbeState, retryAfterSeconds: number) {
  return (_req: InboundRequest, res: InboundResponse): void => {
    if (state.draining()) {
      res.send(503, 'Draining', { headers: { 'Retry-After': String(retryAfterSeconds) } });
      return;
    }
    res.send(200, 'OK', { headers: { Allow: ALLOW, Accept: 'application/sdp' } });
  };
}
