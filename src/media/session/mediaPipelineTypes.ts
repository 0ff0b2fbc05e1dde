/** LiveKit's audio rate (RoomBridge takes and gives 48 kHz mono). */
export const BRIDGE_SAMPLE_RATE = 48_000;
/** One 20 ms frame at the bridge's rate. */
export const BRIDGE_FRAME_SAMPLES = BRIDGE_SAMPLE_RATE / 50;

export interface MediaPipelineOptions {
  /** Our SSRC: one per session, kept across re-INVITEs. */
  ssrc: number;
  initialSequenceNumber: number;
  initialTimestamp: number;
}
