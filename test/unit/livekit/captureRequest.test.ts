import { FfiRequest } from '@livekit/rtc-ffi-bindings';
import { describe, expect, it } from 'vitest';
import { encodeCaptureRequest } from '../../../src/livekit/captureRequest.js';

describe('encodeCaptureRequest', () => {
  it.each([
    { sourceHandle: 1n, dataPtr: 0x7f3a_1c00_0010n, asyncId: 1n << 62n },
    { sourceHandle: 123_456_789n, dataPtr: 0xffff_ffff_ffff_fff0n, asyncId: (1n << 62n) + 987_654n },
  ])('gives the bytes protobuf-es gives for the same request ($sourceHandle)', (ids) => {
    const fields = { ...ids, numChannels: 1, sampleRate: 48_000, samplesPerChannel: 480 };
    const expected = new FfiRequest({
      message: {
        case: 'captureAudioFrame',
        value: {
          sourceHandle: fields.sourceHandle,
          buffer: {
            dataPtr: fields.dataPtr,
            numChannels: fields.numChannels,
            sampleRate: fields.sampleRate,
            samplesPerChannel: fields.samplesPerChannel,
          },
          requestAsyncId: fields.asyncId,
        },
      },
    }).toBinary();
    expect(Buffer.from(encodeCaptureRequest(fields)).toString('hex')).toBe(
      Buffer.from(expected).toString('hex'),
    );
  });
});
