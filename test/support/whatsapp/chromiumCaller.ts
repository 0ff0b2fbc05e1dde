import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { toneWav } from '../toneWav.js';
import { CALLER_PAGE_SCRIPT } from './callerPageScript.js';

/** Where Debian's chromium is; CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface HeardInPage {
  frequencyHz: number;
  levelDbfs: number;
}

/**
 * The WhatsApp user's phone in Graph-mode tests: a real Chromium whose fake microphone plays a
 * tone, making the WebRTC offer (ICE, DTLS-SRTP, Opus, BUNDLE) as Meta's client does, applying
 * the gateway's answer, and listening to what comes back with WebAudio.
 */
export class ChromiumCaller {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    private readonly dir: string,
  ) {}

  static async launch(toneHz: number, pageUrl: string): Promise<ChromiumCaller> {
    const dir = mkdtempSync(join(tmpdir(), 'chromium-caller-'));
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
        // Candidates on loopback, by address: the gateway here listens on 127.0.0.1 only.
        '--allow-loopback-in-peer-connection',
        '--disable-features=WebRtcHideLocalIpsWithMdns',
      ],
    });
    const page = await browser.newPage();
    await page.goto(pageUrl);
    await page.addScriptTag({ content: CALLER_PAGE_SCRIPT });
    return new ChromiumCaller(browser, page, dir);
  }

  /** The offer with every candidate in it (Meta's SDP is not trickled). */
  offer(): Promise<string> {
    return this.page.evaluate('window.makeOffer()') as Promise<string>;
  }

  /** The phone answers a call the business placed: our offer in, its answer (all candidates) out. */
  answerOffer(sdp: string): Promise<string> {
    return this.page.evaluate(`window.answerOffer(${JSON.stringify(sdp)})`) as Promise<string>;
  }

  async answer(sdp: string): Promise<void> {
    await this.page.evaluate(`window.applyAnswer(${JSON.stringify(sdp)})`);
  }

  /** Sends digits as RFC 4733 events on the call's audio (RTCDTMFSender). */
  async sendDtmf(digits: string): Promise<void> {
    await this.page.evaluate(`window.sendDtmf(${JSON.stringify(digits)})`);
  }

  /** Resolves once the peer connection is connected (ICE and DTLS both done). */
  async connected(): Promise<void> {
    await this.page.waitForFunction('window.isConnected()', undefined, { timeout: 20_000 });
  }

  /**
   * What the page hears from the gateway over `durationMs`: the loudest frequency (spectrum
   * averaged over the window) and the level.
   */
  heard(durationMs: number): Promise<HeardInPage> {
    return this.page.evaluate(`window.listen(${Number(durationMs)})`) as Promise<HeardInPage>;
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
