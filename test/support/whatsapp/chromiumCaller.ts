import type { Page } from 'playwright-core';
import { type ChromiumWithMicrophone, chromiumWithMicrophone } from '../chromium.js';
import { CALLER_PAGE_SCRIPT } from './callerPageScript.js';

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
    private readonly chromium: ChromiumWithMicrophone,
    private readonly page: Page,
  ) {}

  static async launch(toneHz: number, pageUrl: string): Promise<ChromiumCaller> {
    const chromium = await chromiumWithMicrophone(toneHz);
    await chromium.page.goto(pageUrl);
    await chromium.page.addScriptTag({ content: CALLER_PAGE_SCRIPT });
    return new ChromiumCaller(chromium, chromium.page);
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

  close(): Promise<void> {
    return this.chromium.close();
  }
}
