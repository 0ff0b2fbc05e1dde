import { z } from 'zod';

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .meta({ description: 'machine-readable: invalid_request, unauthorized, forbidden, not_found…' }),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });
