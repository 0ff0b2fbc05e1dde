import type { RecordingFormat } from './recordingTypes.js';

/** What the recorder feeds ffmpeg on stdin: the media worker's own 48 kHz mono s16le frames. */
export const RECORDING_SAMPLE_RATE = 48_000;

export const RECORDING_EXTENSIONS: Record<RecordingFormat, string> = { ogg: 'ogg', webm: 'webm', mp4: 'mp4' };

const ENCODERS: Record<RecordingFormat, string[]> = {
  // Opus at 32 kb/s is transparent for a phone call and keeps an hour near 15 MB.
  ogg: ['-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-f', 'ogg'],
  webm: ['-c:a', 'libopus', '-b:a', '32k', '-application', 'voip', '-f', 'webm'],
  // AAC, what every player opens in an mp4. Fragmented (an empty moov up front, a fragment a
  // second), so a file cut short by a crash of ffmpeg itself still plays up to its last fragment.
  mp4: [
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof',
    '-frag_duration',
    '1000000',
    '-f',
    'mp4',
  ],
};

/**
 * ffmpeg's arguments to encode raw PCM from stdin into `path`. EOF on stdin (stop, or the worker
 * that feeds it dying) makes ffmpeg write its trailer and exit: the file is complete either way.
 * -flush_packets 1 sends each muxed packet to the file at once instead of holding 32 KB (seconds
 * of audio) in ffmpeg's buffer, so even a killed ffmpeg leaves what it encoded on disk.
 * -n: never overwrite (ffmpeg would otherwise ask, on the stdin that carries our audio).
 */
export function ffmpegRecordArgs(format: RecordingFormat, path: string): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    's16le',
    '-ar',
    String(RECORDING_SAMPLE_RATE),
    '-ac',
    '1',
    '-i',
    'pipe:0',
    ...ENCODERS[format],
    '-flush_packets',
    '1',
    '-n',
    path,
  ];
}
