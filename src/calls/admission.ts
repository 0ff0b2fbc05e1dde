/**
 * Whether the gateway may take on another call right now, for reasons beyond one app's limit
 * (for example, the event outbox is full and a new call's events could not be kept).
 */
export interface AdmissionGate {
  canAcceptWork(): boolean;
}

/**
 * Whether the gateway is draining (SIGTERM with http.drainTimeoutMs): its live calls go on, new
 * ones are refused with 503 so a proxy in front (Kamailio) sends them to another node.
 */
export interface DrainGate {
  draining(): boolean;
}

/** How long a caller refused by a draining node is told to wait before trying it again. */
export const DRAIN_RETRY_AFTER_SECONDS = 30;

/** Whether the machine is too busy for another call's audio (HostCpu). */
export interface LoadGate {
  overloaded(): boolean;
}
