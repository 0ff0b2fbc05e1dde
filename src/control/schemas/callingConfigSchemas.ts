import { z } from 'zod';
import { APP_ID_PATTERN } from '../../config/schema.js';

export const appIdParamsSchema = z.strictObject({
  appId: z.string().regex(APP_ID_PATTERN, 'must be app_ or app_test_ followed by 27 letters or digits'),
});

const settingsShape = {
  voicemailEnabled: z.boolean().meta({ description: 'Take a message when a call is not answered.' }),
  voicemailGreetingUrl: z
    .url({
      protocol: /^https?$/,
      hostname: z.regexes.hostname,
      error: 'must be an absolute http or https URL',
    })
    .max(2048)
    .nullable()
    .meta({
      description: 'Audio played before the beep (absolute http or https URL); null for the built-in one.',
    }),
  voicemailMaxDuration: z
    .int()
    .min(10)
    .max(600)
    .meta({ description: 'Longest voicemail message, in seconds.' }),
  autoRecordEnabled: z.boolean().meta({ description: 'Record every answered call.' }),
  recordingFormat: z.enum(['mp4', 'ogg', 'webm']).meta({ description: 'Container of recordings.' }),
  defaultAnswerBehavior: z
    .enum(['webhook', 'voicemail'])
    .meta({ description: 'webhook: wait for an accept/reject action; voicemail: answer into voicemail.' }),
  maxConcurrentCalls: z
    .int()
    .min(1)
    .max(10000)
    .meta({ description: 'Calls of this app at once, both directions.' }),
  whatsappCallingEnabled: z.boolean().meta({ description: 'Accept WhatsApp Business calls for this app.' }),
  whatsappSipEnabled: z.boolean().meta({
    description: 'Carry WhatsApp calls over SIP; true only while whatsappCallingEnabled is true (else 400).',
  }),
};

/** whatsappSipEnabled true requires whatsappCallingEnabled true, as JSON Schema for the document. */
const whatsappSipRule = {
  not: {
    required: ['whatsappSipEnabled', 'whatsappCallingEnabled'],
    properties: { whatsappSipEnabled: { const: true }, whatsappCallingEnabled: { const: false } },
  },
};

/** PUT body: any subset of the settings; what is left out keeps its current (or default) value. */
export const callingConfigPatchSchema = z
  .strictObject({
    voicemailEnabled: settingsShape.voicemailEnabled.optional(),
    voicemailGreetingUrl: settingsShape.voicemailGreetingUrl.optional(),
    voicemailMaxDuration: settingsShape.voicemailMaxDuration.optional(),
    autoRecordEnabled: settingsShape.autoRecordEnabled.optional(),
    recordingFormat: settingsShape.recordingFormat.optional(),
    defaultAnswerBehavior: settingsShape.defaultAnswerBehavior.optional(),
    maxConcurrentCalls: settingsShape.maxConcurrentCalls.optional(),
    whatsappCallingEnabled: settingsShape.whatsappCallingEnabled.optional(),
    whatsappSipEnabled: settingsShape.whatsappSipEnabled.optional(),
  })
  .meta({
    id: 'CallingConfigUpdate',
    description:
      'whatsappSipEnabled may be true only when whatsappCallingEnabled is true: as sent in this body, or as stored when the body leaves it out (the server checks the settings as they would be after the update).',
    allOf: [whatsappSipRule],
  });

export type CallingConfigPatch = z.output<typeof callingConfigPatchSchema>;

export const callingConfigSchema = z
  .object({
    id: z.string().regex(/^cc_[0-9A-Za-z]{27}$/),
    appId: z.string(),
    organizationId: z.string(),
    ...settingsShape,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'CallingConfig', allOf: [whatsappSipRule] });
