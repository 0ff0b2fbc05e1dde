import { randomBytes } from 'node:crypto';
import { findLiveKitServerBinary, LiveKitServer } from '../../src/launcher/livekitServer.js';

export interface LiveKitRig {
  server: LiveKitServer;
  url: string;
  apiKey: string;
  apiSecret: string;
}

/**
 * Starts a real livekit-server on loopback with fresh keys and free ports. The binary must be
 * installed (`.ci/run` does it); its absence fails the test rather than skipping it.
 */
export async function startLiveKit(): Promise<LiveKitRig> {
  const binary = findLiveKitServerBinary();
  if (!binary) {
    throw new Error('livekit-server not found: run `bash .ci/run` or `go install` it (see README)');
  }
  const apiKey = `test${randomBytes(4).toString('hex')}`;
  const apiSecret = randomBytes(24).toString('hex');
  const server = new LiveKitServer(binary, { apiKey, apiSecret });
  await server.start();
  return { server, url: server.url, apiKey, apiSecret };
}
