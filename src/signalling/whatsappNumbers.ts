import type { WhatsAppNumberConfig } from '../config/sipSchema.js';
import type { EncryptionPolicy } from '../media/srtp/srtpTypes.js';

/**
 * The WhatsApp business numbers on Meta's SIP mode (`sip.whatsapp.numbers`), by number. Meta
 * mandates SRTP, so a number's media policy is always `required`, keyed as Meta keys it.
 */
export class WhatsAppNumbers {
  private readonly byNumber = new Map<string, WhatsAppNumberConfig>();

  constructor(numbers: readonly WhatsAppNumberConfig[]) {
    for (const entry of numbers) this.byNumber.set(entry.number, entry);
  }

  get(number: string): WhatsAppNumberConfig | undefined {
    return this.byNumber.get(number);
  }

  encryptionOf(number: string): EncryptionPolicy | undefined {
    const entry = this.byNumber.get(number);
    return entry ? { method: entry.keying, required: true } : undefined;
  }
}
