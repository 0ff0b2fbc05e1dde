import { z } from 'zod';
import { controlPlaneMessageSchema, gatewayMessageSchema } from './eventMessages.js';

/** Where the committed copy lives, relative to the repository root (kept equal by a unit test). */
export const EVENT_SCHEMA_FILE = 'src/control/events/schemas/event-channel.schema.json';

/**
 * The JSON Schema (2020-12) of every event-channel message, both ways: one document whose
 * `$defs` name each message, generated from the zod schemas the gateway itself validates with.
 */
export function eventChannelJsonSchema(): Record<string, unknown> {
  const root = z.union([gatewayMessageSchema, controlPlaneMessageSchema]).meta({
    title: 'Gateway ⇄ control plane event channel',
    description:
      'Messages on the WebSocket the gateway dials (control.url). GatewayMessage: sent by the gateway; ControlPlaneMessage: accepted from the control plane.',
  });
  return z.toJSONSchema(root, { io: 'output' }) as Record<string, unknown>;
}
