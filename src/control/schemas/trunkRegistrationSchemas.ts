import { z } from 'zod';

/** A trunk's name as config has it (sip.trunks[].name). */
export const trunkNameParamsSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a trunk name: lowercase letters, digits, _ and -'),
});

export const trunkRegistrationSchema = z
  .object({
    trunk: z.string(),
    state: z.enum(['registering', 'registered', 'failed', 'unregistered']).meta({
      description:
        'registering: no answer yet; registered: the registrar holds our Contact until expiresAt (refreshed before then); failed: the last REGISTER was refused or unanswered, retried at nextAttemptAt with backoff; unregistered: stopped.',
    }),
    expiresAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'When the binding the registrar last granted ends; null when none is known.' }),
    lastError: z
      .string()
      .nullable()
      .meta({ description: 'Why the last attempt failed (e.g. "403 Forbidden"); null after a success.' }),
    lastAttemptAt: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime().nullable().meta({
      description: 'When the next REGISTER (a refresh or a retry) goes out; null when none is planned.',
    }),
  })
  .meta({ id: 'TrunkRegistration' });
