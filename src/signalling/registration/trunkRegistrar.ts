import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TrunkConfig } from '../../config/sipSchema.js';
import type { ReadinessProbe } from '../../observability/readiness.js';
import { RegistrationMetrics } from './registrationMetrics.js';
import { registrationTargetOf } from './registrationTarget.js';
import {
  DEFAULT_REGISTRATION_TIMING,
  type RegistrationState,
  type RegistrationTiming,
  type SendRequest,
} from './registrationTypes.js';
import { TrunkRegistration } from './trunkRegistration.js';

export interface TrunkRegistrarDeps {
  send: SendRequest;
  /** Resolves once REGISTERs can go out (the SIP server connection is up); at once without. */
  whenReady?: () => Promise<void>;
  logger: Logger;
  /** Where the registration metrics go; none without. */
  metrics?: Registry;
  /** Overrides of the default timers (tests make them short). */
  timing?: Partial<RegistrationTiming>;
  now?: () => Date;
  random?: () => number;
}

interface Entry {
  /** The registration's settings as a string: a change of any of them makes a new registration. */
  fingerprint: string;
  registration: TrunkRegistration;
}

/**
 * The registrations of every trunk that has `registration` settings, one TrunkRegistration each.
 * `sync` takes the whole list of trunks whenever it changes (from YAML at start, from the API
 * later) and starts, keeps, replaces or ends registrations to match: a trunk whose settings
 * changed is un-REGISTERed before its new registration starts (the same Contact under a new
 * Call-ID would otherwise be removed by the old un-REGISTER). `stop` ends them all, un-REGISTERs
 * included, within the timing's unregisterTimeoutMs.
 */
export class TrunkRegistrar {
  private readonly entries = new Map<string, Entry>();
  /** Registrations ending (removed or replaced trunks), so `stop` can wait for them too. */
  private readonly ending = new Set<Promise<void>>();
  /** Per trunk, the end of the registration a replacement waits for. */
  private readonly predecessors = new Map<string, Promise<void>>();
  private readonly timing: RegistrationTiming;
  private readonly metrics: RegistrationMetrics | undefined;
  private readonly ready: Promise<void>;
  private stopped = false;

  constructor(private readonly deps: TrunkRegistrarDeps) {
    this.timing = { ...DEFAULT_REGISTRATION_TIMING, ...deps.timing };
    this.ready = deps.whenReady?.() ?? Promise.resolve();
    this.metrics = deps.metrics ? new RegistrationMetrics(deps.metrics, () => this.states()) : undefined;
  }

  /** Makes the running registrations those of `trunks`; ignored once stopped. */
  sync(trunks: readonly TrunkConfig[]): void {
    if (this.stopped) return;
    const wanted = new Map<string, ReturnType<typeof registrationTargetOf>>();
    for (const trunk of trunks) {
      const target = registrationTargetOf(trunk);
      if (target) wanted.set(trunk.name, target);
    }
    for (const [name, entry] of this.entries) {
      const target = wanted.get(name);
      if (target && JSON.stringify(target) === entry.fingerprint) continue;
      this.entries.delete(name);
      this.end(name, entry.registration);
    }
    for (const [name, target] of wanted) {
      if (!target || this.entries.has(name)) continue;
      const registration = new TrunkRegistration(target, {
        send: this.deps.send,
        timing: this.timing,
        logger: this.deps.logger,
        now: this.deps.now ?? (() => new Date()),
        random: this.deps.random ?? Math.random,
        onResult: (result) => this.metrics?.count(name, result),
      });
      this.entries.set(name, { fingerprint: JSON.stringify(target), registration });
      // Reported (registering) at once; the first REGISTER waits for the SIP server, and for the
      // un-REGISTER of the registration it replaces.
      void Promise.all([this.ready, this.predecessors.get(name)]).then(() => {
        if (this.entries.get(name)?.registration === registration) registration.start();
      });
    }
  }

  /** The registration state of a trunk that registers; undefined for any other. */
  state(trunk: string): RegistrationState | undefined {
    return this.entries.get(trunk)?.registration.state;
  }

  /** Every registering trunk's state, by trunk name. */
  *states(): IterableIterator<[string, RegistrationState]> {
    for (const [name, entry] of this.entries) yield [name, entry.registration.state];
  }

  /**
   * Readiness detail: which trunks are not registered, and why. Advisory: a trunk's carrier not
   * taking our registration stops only the calls that carrier would send; calls of every other
   * trunk, and the app's outbound calls, still go through, so it must not take the gateway out of
   * a load balancer. Left out of /readyz when no trunk registers.
   */
  probe(): ReadinessProbe {
    return {
      name: 'registration',
      advisory: true,
      check: () => {
        if (this.entries.size === 0) return null;
        const problems: string[] = [];
        for (const [name, state] of this.states()) {
          if (state.state === 'registered') continue;
          const why = state.lastError ? ` (${state.lastError})` : '';
          const next = state.nextAttemptAt ? `, next attempt at ${state.nextAttemptAt}` : '';
          problems.push(`trunk ${name}: ${state.state}${why}${next}`);
        }
        return problems.length === 0 ? true : problems.join('; ');
      },
    };
  }

  /** Ends every registration (un-REGISTERs, bounded by their timeout); never rejects. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [name, entry] of this.entries) this.end(name, entry.registration);
    this.entries.clear();
    await Promise.all([...this.ending]);
  }

  private end(name: string, registration: TrunkRegistration): void {
    const ended = registration.stop();
    this.ending.add(ended);
    void ended.then(() => this.ending.delete(ended));
    // A registration replaced twice in a row: its successor waits for both ends.
    const prior = this.predecessors.get(name);
    const all = prior ? Promise.all([prior, ended]).then(() => undefined) : ended;
    this.predecessors.set(name, all);
    void all.then(() => {
      if (this.predecessors.get(name) === all) this.predecessors.delete(name);
    });
  }
}
