/**
 * The FFI request that captures one audio frame, encoded by hand: it goes out 100 times a second
 * per call, and protobuf-es's generic encoder was about 5 % of a loaded worker's busy time.
 *
 * FfiRequest { capture_audio_frame = 27: CaptureAudioFrameRequest {
 *   source_handle = 1, buffer = 2: AudioFrameBufferInfo {
 *     data_ptr = 1, num_channels = 2, sample_rate = 3, samples_per_channel = 4 },
 *   request_async_id = 3 } }
 * (rtc-ffi-bindings 0.12.73, proto/audio_frame.proto and ffi.proto). The caller picks the async id,
 * so the response need not be decoded; test/unit/livekit/captureRequest.test.ts checks the bytes
 * against protobuf-es's own encoding.
 */
export interface CaptureRequestFields {
  sourceHandle: bigint;
  dataPtr: bigint;
  numChannels: number;
  sampleRate: number;
  samplesPerChannel: number;
  asyncId: bigint;
}

const CAPTURE_AUDIO_FRAME_FIELD = 27;

export function encodeCaptureRequest(fields: CaptureRequestFields): Uint8Array {
  const info: number[] = [];
  pushTag(info, 1, 0);
  pushVarint(info, fields.dataPtr);
  pushTag(info, 2, 0);
  pushVarint(info, BigInt(fields.numChannels));
  pushTag(info, 3, 0);
  pushVarint(info, BigInt(fields.sampleRate));
  pushTag(info, 4, 0);
  pushVarint(info, BigInt(fields.samplesPerChannel));
  const request: number[] = [];
  pushTag(request, 1, 0);
  pushVarint(request, fields.sourceHandle);
  pushTag(request, 2, 2);
  pushVarint(request, BigInt(info.length));
  request.push(...info);
  pushTag(request, 3, 0);
  pushVarint(request, fields.asyncId);
  const outer: number[] = [];
  pushTag(outer, CAPTURE_AUDIO_FRAME_FIELD, 2);
  pushVarint(outer, BigInt(request.length));
  outer.push(...request);
  return Uint8Array.from(outer);
}

function pushTag(out: number[], field: number, wireType: 0 | 2): void {
  pushVarint(out, BigInt((field << 3) | wireType));
}

function pushVarint(out: number[], value: bigint): void {
  let rest = BigInt.asUintN(64, value);
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
}
