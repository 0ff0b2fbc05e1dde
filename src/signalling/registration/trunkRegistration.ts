import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { challengeHeaders, chooseChallenge, digestAuthorization } from '../outbound/digestAnswer.js';
import { deltaSeconds, grantedSeconds, refreshDelayMs, retryDelayMs } from './registrationTiming.js';
import type {
  AttemptResult,
  RegistrationState,
  RegistrationTarget,
  RegistrationTiming,
  SendRequest,
  SentRequest,
  SentRequestResponse,
} from './registrationTypes.js';

export interface TrunkRegistrationDeps {
  send: SendRequest;
  timing: RegistrationTiming;
  logger: Logger;
  now: () => Date;
  /** In [0, 1): the jitter of retry delays. */
  random: () => number;
  /** Each response (or its absence) an exchange ends on or goes on after, for the attempts metric. */
  onResult?: (result: AttemptResult) => void;
}

/** What one REGISTER exchange (challenges and 423s included) came to. */
type Outcome =
  | { ok: true; grantedSeconds: number }
  | { ok: false; result: Exclude<AttemptResult, 'registered' | 'unregistered'>; error: string };

/** A REGISTER that got no final response: none in time, or it never went out. */
class NoFinalResponse extends Error {
  constructor(
    readonly result: 'timeout' | 'error',
    message: string,
  ) {
    super(message);
  }
}

/** Rounds of one exchange at most: a challenge, a stale challenge, a 423 and its challenge, and spare. */
const MAX_ROUNDS = 6;
/** A reason phrase is the far end's text: kept short, and printable. */
const MAX_REASON_LENGTH = 200;

function statusLine(response: SentRequestResponse): string {
  const reason = (response.reason ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, MAX_REASON_LENGTH);
  return `${response.status} ${reason}`.trim();
}

function failed(result: Exclude<AttemptResult, 'registered' | 'unregistered'>, error: string): Outcome {
  return { ok: false, result, error };
}

/**
 * One trunk's registration with its registrar (RFC 3261 §10.2): REGISTERs with one Call-ID for its
 * whole life and a CSeq one higher each time; answers 401/407 digest challenges (SHA-256 or MD5,
 * qop=auth) and 423 Interval Too Brief (asks again with Min-Expires, and keeps asking that);
 * refreshes before the granted expiry; after a failure retries with capped exponential backoff,
 * for as long as it runs. `stop` ends every timer and removes the binding (Expires: 0) if one may
 * exist, waiting at most `timing.unregisterTimeoutMs` for the answer.
 */
export class TrunkRegistration {
  private readonly callId = `${randomBytes(16).toString('hex')}@gateway`;
  private cseq = 0;
  private requestedSeconds: number;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The exchange under way, if any (an object compared by identity). */
  private inFlight: object | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** Ends each transaction still waiting for its response, with its timer. */
  private readonly aborts = new Set<() => void>();
  private status: RegistrationState = {
    state: 'registering',
    expiresAt: null,
    lastError: null,
    lastAttemptAt: null,
    nextAttemptAt: null,
  };
  private readonly logger: Logger;

  constructor(
    readonly target: RegistrationTarget,
    private readonly deps: TrunkRegistrationDeps,
  ) {
    this.requestedSeconds = target.expiresSeconds;
    // Never the credentials: the target's other parts say which registration this is.
    this.logger = deps.logger.child({
      trunk: target.trunk,
      registrar: target.proxy ?? target.uri,
      aor: target.aor,
    });
  }

  get state(): RegistrationState {
    const { expiresAt } = this.status;
    // A binding whose refresh keeps failing ends at its time: none is known after that.
    const lapsed = expiresAt !== null && Date.parse(expiresAt) <= this.deps.now().getTime();
    return { ...this.status, ...(lapsed ? { expiresAt: null } : {}) };
  }

  /** Sends the first REGISTER at once; nothing if it runs already or has stopped. */
  start(): void {
    if (this.stopped || this.timer || this.inFlight) return;
    this.schedule(0);
  }

  /** Safe to call more than once; never rejects. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.status.nextAttemptAt = new Date(this.deps.now().getTime() + delayMs).toISOString();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, delayMs);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const token = {};
    this.inFlight = token;
    this.status.lastAttemptAt = this.deps.now().toISOString();
    this.status.nextAttemptAt = null;
    const outcome = await this.exchange(this.requestedSeconds);
    if (this.inFlight !== token || this.stopped) return;
    this.inFlight = undefined;
    if (outcome.ok) {
      this.deps.onResult?.('registered');
      const wasRegistered = this.status.state === 'registered';
      const granted = outcome.grantedSeconds;
      const expiresAt = new Date(this.deps.now().getTime() + granted * 1000).toISOString();
      this.failures = 0;
      this.status = { ...this.status, state: 'registered', expiresAt, lastError: null };
      const delay = refreshDelayMs(granted, this.deps.timing);
      this.schedule(delay);
      const fields = { grantedSeconds: granted, expiresAt, refreshInMs: delay };
      if (wasRegistered) this.logger.debug(fields, 'registration refreshed');
      else this.logger.info(fields, 'registered with the trunk’s registrar');
      return;
    }
    this.deps.onResult?.(outcome.result);
    this.failures += 1;
    const delay = retryDelayMs(this.failures, this.deps.timing, this.deps.random);
    // The binding a refresh failed to extend lasts until it ends; expiresAt says until when.
    const expiresAt =
      this.status.expiresAt !== null && Date.parse(this.status.expiresAt) > this.deps.now().getTime()
        ? this.status.expiresAt
        : null;
    this.status = { ...this.status, state: 'failed', expiresAt, lastError: outcome.error };
    this.schedule(delay);
    this.logger.warn(
      { error: outcome.error, result: outcome.result, failures: this.failures, retryInMs: delay },
      'registration failed; retrying',
    );
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A binding may exist if one was granted, or if a REGISTER is still out.
    const mayBeBound = this.status.expiresAt !== null || this.inFlight !== undefined;
    this.inFlight = undefined;
    this.status.nextAttemptAt = null;
    let lastError = this.status.lastError;
    if (mayBeBound) {
      const timeoutMs = this.deps.timing.unregisterTimeoutMs;
      let deadline: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        this.exchange(0),
        new Promise<Outcome>((resolve) => {
          deadline = setTimeout(
            () => resolve(failed('timeout', `no answer to the un-REGISTER within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      clearTimeout(deadline);
      this.deps.onResult?.(outcome.ok ? 'unregistered' : outcome.result);
      if (outcome.ok) {
        this.logger.info('unregistered from the trunk’s registrar');
      } else {
        lastError = `un-REGISTER: ${outcome.error}`;
        this.logger.warn({ error: outcome.error }, 'un-REGISTER failed; the binding lapses at its expiry');
      }
    }
    for (const abort of [...this.aborts]) abort();
    this.status = { ...this.status, state: 'unregistered', expiresAt: null, lastError, nextAttemptAt: null };
  }

  /**
   * One REGISTER asking for `expires` seconds (0: remove our binding), and as many more as its
   * challenges and 423s call for, up to a 2xx or another final answer.
   */
  private async exchange(expires: number): Promise<Outcome> {
    const { target } = this;
    let asked = expires;
    let credentials: Record<string, string> = {};
    let answered = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // A stopped registration sends nothing more but its un-REGISTER.
      if (this.stopped && asked > 0) return failed('error', 'stopped');
      let request: SentRequest;
      let response: SentRequestResponse;
      try {
        ({ request, response } = await this.transaction(asked, credentials));
      } catch (error) {
        if (error instanceof NoFinalResponse) return failed(error.result, error.message);
        return failed('error', error instanceof Error ? error.message : String(error));
      }
      const status = response.status;
      if (status >= 200 && status < 300) {
        return {
          ok: true,
          grantedSeconds: asked === 0 ? 0 : grantedSeconds(response, request.get('Contact'), asked),
        };
      }
      const line = statusLine(response);
      if (status === 401 || status === 407) {
        const headers = challengeHeaders(status);
        const challenge = chooseChallenge(response.get(headers.challenge));
        if (!challenge) return failed('rejected', `${line}: no digest challenge the gateway can answer`);
        // A second challenge to an answer is a refusal of the credentials, unless the nonce was stale.
        if (answered && !challenge.stale) return failed('rejected', `${line}: credentials refused`);
        this.deps.onResult?.('challenged');
        answered = true;
        credentials = {
          [headers.answer]: digestAuthorization(
            challenge,
            { method: 'REGISTER', uri: target.uri },
            target.credentials,
          ),
        };
        continue;
      }
      if (status === 423 && asked > 0) {
        const minimum = deltaSeconds(response.get('Min-Expires'));
        if (minimum === undefined || minimum <= asked) {
          return failed('rejected', `${line}: no Min-Expires above the ${asked} s asked`);
        }
        this.deps.onResult?.('interval_too_brief');
        this.logger.info({ asked, minExpires: minimum }, 'registrar wants a longer registration');
        asked = minimum;
        this.requestedSeconds = minimum;
        // A new REGISTER is challenged afresh: an answer is good for one request (nc=1).
        credentials = {};
        answered = false;
        continue;
      }
      return failed(status === 408 ? 'timeout' : 'rejected', line);
    }
    return failed('rejected', `no final answer after ${MAX_ROUNDS} REGISTERs`);
  }

  /** Sends one REGISTER and resolves with its final response (with the request as it went out). */
  private transaction(
    expires: number,
    credentials: Record<string, string>,
  ): Promise<{ request: SentRequest; response: SentRequestResponse }> {
    const { target, deps } = this;
    this.cseq += 1;
    const headers: Record<string, string> = {
      From: `<${target.aor}>`,
      To: `<${target.aor}>`,
      'Call-ID': this.callId,
      CSeq: `${this.cseq} REGISTER`,
      Contact: target.contact,
      Expires: String(expires),
      ...credentials,
    };
    const timeoutMs = deps.timing.responseTimeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.aborts.delete(abort);
        settle();
      };
      const abort = (): void =>
        finish(() => reject(new NoFinalResponse('error', 'abandoned: the registration stopped')));
      const timer = setTimeout(
        () => finish(() => reject(new NoFinalResponse('timeout', `no response within ${timeoutMs} ms`))),
        timeoutMs,
      );
      this.aborts.add(abort);
      deps.send(
        target.uri,
        { method: 'REGISTER', headers, ...(target.proxy ? { proxy: target.proxy } : {}) },
        (error, request) => {
          if (error || !request) {
            const reason = error?.message || 'no request';
            finish(() => reject(new NoFinalResponse('error', `REGISTER not sent: ${reason}`)));
            return;
          }
          request.on('response', (response) => {
            if (response.status >= 200) finish(() => resolve({ request, response }));
          });
        },
      );
    });
  }
}
