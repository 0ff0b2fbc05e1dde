import { z } from 'zod';
import { APP_ID_PATTERN } from '../../config/appIds.js';

export const consoleLinkRequestSchema = z
  .strictObject({
    /**
     * With an admin key: the app whose console the link opens (an app key's session). Without it
     * the session is the admin's. An app key makes links for its own app only.
     */
    appId: z.string().regex(APP_ID_PATTERN, 'app_ and 27 letters or digits').optional(),
  })
  .meta({ id: 'ConsoleLinkRequest' });

export const consoleLinkSchema = z
  .object({
    code: z.string().meta({ description: 'one-time code; good once, until expiresAt' }),
    url: z.string().meta({
      description:
        "the console with the code in the URL's fragment (never sent to a server): /console#code=…",
    }),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ConsoleLink' });

export const consoleSessionRequestSchema = z
  .strictObject({ code: z.string().min(1).max(256) })
  .meta({ id: 'ConsoleSessionRequest' });

export const consoleSessionSchema = z
  .object({
    token: z
      .string()
      .meta({ description: 'bearer token for the API, like a key; keep it in sessionStorage' }),
    role: z.enum(['admin', 'app']),
    appId: z.string().nullable(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ConsoleSession' });
