import type { Logger } from 'pino';
import type { GraphNumberConfig } from '../../config/whatsappGraphSchema.js';
import type { GraphApi } from './graphApi.js';

/** The app's WhatsApp switches, as its calling configuration has them. */
export interface WhatsAppSwitches {
  whatsappCallingEnabled: boolean;
  whatsappSipEnabled: boolean;
}

/** A business number's SIP side, when it has one (sip.whatsapp.numbers). */
export interface SipSideOf {
  sipOf(number: string): { sipHostname: string; keying: 'dtls' | 'sdes' } | undefined;
}

/** A number the provider refused to change, or one that cannot be changed as asked. */
export class SettingsSyncError extends Error {
  override readonly name = 'SettingsSyncError';
  constructor(
    readonly number: string,
    readonly kind: 'provider' | 'not_configured',
    message: string,
  ) {
    super(message);
  }
}

export interface WhatsAppSettingsSyncDeps {
  numbers: () => readonly { config: GraphNumberConfig; api: GraphApi }[];
  sip: SipSideOf;
  /** The port Meta's edge dials for our SIP server (TLS). */
  sipPort: number;
  logger: Logger;
}

/**
 * Tells the provider what an app's calling configuration says, for each of the app's business
 * numbers that has provider credentials (whatsapp.graph.numbers): calling on or off, SIP on
 * (with our SIP hostname and port) or off (Graph mode), and how media is keyed. Meta is told
 * before the change is stored, so a number Meta would not change leaves the configuration as it
 * was rather than out of step with Meta.
 */
export class WhatsAppSettingsSync {
  constructor(private readonly deps: WhatsAppSettingsSyncDeps) {}

  async push(appId: string, switches: WhatsAppSwitches): Promise<string[]> {
    const numbers = this.deps.numbers().filter((number) => number.config.appId === appId);
    const bodies = numbers.map((number) => ({
      number,
      body: this.settingsFor(number.config.number, switches),
    }));
    const pushed: string[] = [];
    for (const { number, body } of bodies) {
      try {
        await number.api.pushSettings(body);
      } catch (error) {
        throw new SettingsSyncError(
          number.config.number,
          'provider',
          `${number.config.provider} refused the settings of ${number.config.number}: ${(error as Error).message}`,
        );
      }
      pushed.push(number.config.number);
      this.deps.logger.info({ appId, number: number.config.number, ...switches }, 'WhatsApp settings pushed');
    }
    return pushed;
  }

  private settingsFor(number: string, switches: WhatsAppSwitches): Record<string, unknown> {
    const sip = this.deps.sip.sipOf(number);
    if (switches.whatsappSipEnabled && !sip) {
      throw new SettingsSyncError(
        number,
        'not_configured',
        `${number} has no SIP settings (sip.whatsapp.numbers): Meta would have no SIP server to call`,
      );
    }
    return {
      calling: {
        status: switches.whatsappCallingEnabled ? 'ENABLED' : 'DISABLED',
        srtp_key_exchange_protocol: (sip?.keying ?? 'dtls').toUpperCase(),
        sip: {
          status: switches.whatsappSipEnabled ? 'ENABLED' : 'DISABLED',
          ...(sip ? { servers: [{ hostname: sip.sipHostname, port: this.deps.sipPort }] } : {}),
        },
      },
    };
  }
}
