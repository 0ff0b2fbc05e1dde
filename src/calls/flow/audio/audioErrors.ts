/** Audio for a playback or say could not be had (bad URL, refused file, download or decode failure). */
export class AudioUnavailable extends Error {
  override readonly name = 'AudioUnavailable';
}
