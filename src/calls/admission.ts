/**
 * Whether the gateway may take on another call right now, for reasons beyond one app's limit
 * (for example, the event outbox is full and a new call's events could not be kept).
 */
export interface AdmissionGate {
  canAcceptWork(): boolean;
}

/** Whether the machine is too busy for another call's audio (HostCpu). */
export interface LoadGate {
  overloaded(): boolean;
}
