import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { toneWav } from './toneWav.js';

/** Where Debian's chromium is; CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ChromiumWithMicrophone {
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/**
 * A real Chromium (headless) whose fake microphone plays a tone, with media permission granted
 * and autoplay allowed; WebRTC candidates on loopback by address (the tests listen on 127.0.0.1).
 */
export async function chromiumWithMicrophone(toneHz: number): Promise<ChromiumWithMicrophone> {
  const dir = mkdtempSync(join(tmpdir(), 'chromium-'));
  const wav = join(dir, 'tone.wav');
  writeFileSync(wav, toneWav(toneHz, { sampleRate: 48_000, seconds: 60 }));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  const page = await browser.newPage();
  return {
    browser,
    page,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
