import { ToneGenerator } from './tone.js';

/** A mono 16-bit WAV of a tone at 0.3 of full scale (what baresip and Chromium play as a microphone). */
export function toneWav(frequencyHz: number, options: { sampleRate: number; seconds: number }): Buffer {
  const { sampleRate, seconds } = options;
  const samples = new ToneGenerator({ frequencyHz, amplitude: 0.3, sampleRate }).next(sampleRate * seconds);
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
