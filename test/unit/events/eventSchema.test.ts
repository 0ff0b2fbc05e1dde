import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  controlPlaneMessageSchema,
  gatewayMessageSchema,
} from '../../../src/control/events/eventMessages.js';
import {
  EVENT_SCHEMA_FILE,
  eventChannelJsonSchema,
} from '../../../src/control/events/eventSchemaDocument.js';

const file = fileURLToPath(new URL(`../../../${EVENT_SCHEMA_FILE}`, import.meta.url));
const evtId = `evt_${'A'.repeat(27)}`;

describe('the event channel JSON Schema', () => {
  it(`is committed in ${EVENT_SCHEMA_FILE}, equal to the one generated from the zod schemas`, () => {
    const generated = `${JSON.stringify(eventChannelJsonSchema(), null, 2)}\n`;
    // UPDATE_EVENT_SCHEMA=1 rewrites the committed copy after a deliberate change to the messages.
    if (process.env.UPDATE_EVENT_SCHEMA === '1') writeFileSync(file, generated);
    expect(readFileSync(file, 'utf8')).toBe(generated);
  });

  it('names every message in $defs', () => {
    const defs = Object.keys((eventChannelJsonSchema() as { $defs: object }).$defs);
    for (const name of [
      'HelloMessage',
      'EventMessage',
      'ResultMessage',
      'ErrorMessage',
      'AckMessage',
      'CommandMessage',
      'GatewayMessage',
      'ControlPlaneMessage',
    ]) {
      expect(defs).toContain(name);
    }
  });

  it('accepts and refuses the same messages as the zod schemas, read back from JSON Schema', () => {
    const fromJson = z.fromJSONSchema(JSON.parse(readFileSync(file, 'utf8')));
    const good = [
      { type: 'hello', gatewayId: `gw_${'B'.repeat(27)}`, version: '1.0.0', lastAckedSeq: 0 },
      {
        type: 'event',
        event: 'calls.answered',
        eventId: evtId,
        seq: 3,
        timestamp: '2026-01-01T00:00:00.000Z',
        data: { call: { id: 'call_x', status: 'in_progress' } },
      },
      { type: 'result', id: 'c1', ok: true },
      { type: 'result', id: 'c1', ok: false, error: { code: 'not_found', message: 'no such call' } },
      { type: 'error', error: { code: 'invalid_json', message: 'x' } },
      { type: 'ack', seq: 7 },
      { type: 'command', id: 'c2', callId: 'call_x', action: 'update', status: 'completed' },
    ];
    const bad = [
      {
        type: 'event',
        event: 'calls.exploded',
        eventId: evtId,
        seq: 1,
        timestamp: 'x',
        data: { call: { id: 'a' } },
      },
      { type: 'ack', seq: 0 },
      { type: 'ack', seq: 1.5 },
      { type: 'command', id: 'c3', callId: 'call_x', action: 'explode' },
      { type: 'result', id: 'c1', ok: false },
      { type: 'hello', gatewayId: 'nope', version: '1', lastAckedSeq: 0 },
    ];
    const zodUnion = z.union([gatewayMessageSchema, controlPlaneMessageSchema]);
    for (const message of good) {
      expect(zodUnion.safeParse(message).success, JSON.stringify(message)).toBe(true);
      expect(fromJson.safeParse(message).success, JSON.stringify(message)).toBe(true);
    }
    for (const message of bad) {
      expect(zodUnion.safeParse(message).success, JSON.stringify(message)).toBe(false);
      expect(fromJson.safeParse(message).success, JSON.stringify(message)).toBe(false);
    }
  });
});
