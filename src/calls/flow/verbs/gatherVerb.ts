import type { MediaSession } from '../../../media/workers/MediaSession.js';
import type { DtmfEvent } from '../../../media/workers/mediaChannelTypes.js';
import { FlowStopped } from '../../callErrors.js';
import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';
import { playOptions, promptAudio } from './promptAudio.js';

/** Why a gather ended, as its calls.gather event says. */
export type GatherEnd = 'maxNumKeys' | 'endKey' | 'timeout';

export interface GatherResult {
  /** The digits entered, without the end key. */
  digits: string;
  reason: GatherEnd;
}

/**
 * Collects the caller's DTMF (RFC 4733 or SIP INFO) while an optional prompt plays; the first
 * digit stops the prompt. Input ends at maxNumKeys digits, at the end key, or when no digit came
 * for timeoutMs (counted from the prompt's end, and again after each digit). When nothing was
 * entered it prompts again, `retries` times. The result is one calls.gather event.
 */
export class GatherVerb implements FlowVerb {
  readonly command = 'gather';

  constructor(private readonly spec: VerbSpec<'gather'>) {}

  async run(context: FlowContext): Promise<void> {
    const prompt = this.spec.prompt;
    const file = prompt ? await promptAudio(context, prompt) : undefined;
    const session = await context.answered();
    for (let attempt = 0; ; attempt++) {
      const result = await this.collect(context, session, file);
      if (result.digits !== '' || result.reason !== 'timeout' || attempt >= this.spec.retries) {
        context.emit('calls.gather', { digits: result.digits, reason: result.reason });
        return;
      }
    }
  }

  private collect(
    context: FlowContext,
    session: MediaSession,
    file: string | undefined,
  ): Promise<GatherResult> {
    const { maxNumKeys, endKey, timeoutMs } = this.spec;
    let digits = '';
    let prompting = file !== undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<GatherResult>((resolve, reject) => {
      const cleanup = (): void => {
        settled = true;
        clearTimeout(timer);
        session.off('dtmf', onDigit);
        context.signal.removeEventListener('abort', onAbort);
      };
      const finish = (reason: GatherEnd): void => {
        cleanup();
        if (prompting) context.stopPlayback();
        resolve({ digits, reason });
      };
      const arm = (): void => {
        if (settled) return;
        clearTimeout(timer);
        timer = setTimeout(() => finish('timeout'), timeoutMs);
      };
      const onDigit = (event: DtmfEvent): void => {
        // The caller's keys (RFC 4733 or SIP INFO); digits room participants send go to the caller.
        if (event.source === 'room') return;
        if (prompting) {
          prompting = false;
          context.stopPlayback();
        }
        if (endKey !== undefined && event.digit === endKey) {
          finish('endKey');
          return;
        }
        digits += event.digit;
        if (digits.length >= maxNumKeys) finish('maxNumKeys');
        else arm();
      };
      const onAbort = (): void => {
        cleanup();
        reject(new FlowStopped('the flow stopped during gather'));
      };
      session.on('dtmf', onDigit);
      context.signal.addEventListener('abort', onAbort, { once: true });
      if (!file || !this.spec.prompt) {
        arm();
        return;
      }
      context
        .play(session, file, playOptions(this.spec.prompt))
        .then(
          () => undefined,
          (error: unknown) => {
            if (!(error instanceof FlowStopped))
              context.logger.warn({ callId: context.callId, err: error }, 'gather prompt failed');
          },
        )
        .finally(() => {
          // Whether it played to its end, was cut or failed: the wait for digits starts now.
          if (!prompting) return;
          prompting = false;
          arm();
        });
    });
  }
}
