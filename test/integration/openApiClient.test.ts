import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * The OpenAPI document as a client generator sees it: it must validate, every $ref must
 * resolve, and a client generated from it (openapi-typescript types + openapi-fetch) must
 * type-check against calls a user would write and then work against the running API.
 */

let running: RunningGateway;
let doc: any;
let dir: string;

beforeAll(async () => {
  running = await startInProcessGateway();
  doc = await (await fetch(`${running.url}/openapi.json`, { headers: bearer(KEYS.app) })).json();
  dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
  // The generated client imports openapi-fetch like any project would.
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
});
afterAll(async () => {
  await running.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every `$ref` in the document, with where it sits. */
function refsIn(root: unknown): { at: string; ref: string }[] {
  const refs: { at: string; ref: string }[] = [];
  const pending: [unknown, string][] = [[root, '#']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, at] = next;
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.push({ at, ref: value });
      else pending.push([value, `${at}/${key}`]);
    }
  }
  return refs;
}

/** A local `$ref` (`#/a/b`) followed through the document, or undefined where it leads nowhere. */
function follow(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function operations(): { name: string; operation: any }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]: [string, any]) =>
    Object.entries(methods).map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('has no $ref that resolves to nothing', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter(({ ref }) => follow(ref) === undefined)).toEqual([]);
    // The PATCH body reaches the call flow verbs through components of their own.
    expect(follow('#/components/schemas/CallFlow')).toMatchObject({ type: 'array' });
    expect(follow('#/components/schemas/GatherVerb')).toMatchObject({ type: 'object' });
  });

  it('lists 413 on every operation with a body, and 401/403 as each operation’s keys allow', () => {
    for (const { name, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      if (operation.requestBody) expect(statuses, name).toContain('413');
      const access = operation['x-access'];
      if (access === 'public') expect(operation.security, name).toEqual([]);
      else expect(statuses, name).toContain('401');
      // Meta's webhook has no API key but keys of its own: the verify token (403), the signature (401).
      const ownKeys = name.endsWith(' /v1/whatsapp/webhook');
      if (access !== 'public' && access !== 'any') expect(statuses, name).toContain('403');
      else if (!ownKeys) expect(statuses, name).not.toContain('403');
    }
  });

  it('states the address patterns of POST /v1/calls and the WhatsApp SIP rule', () => {
    const create = JSON.stringify(doc.components.schemas.CallCreate);
    expect(create).toContain(JSON.stringify('^\\+[1-9]\\d{1,14}$'));
    expect(create).toContain(JSON.stringify('^(?!sip_)[A-Za-z0-9_.@-]{1,128}$'));
    const update = doc.components.schemas.CallingConfigUpdate;
    expect(update.description).toMatch(/whatsappSipEnabled.*whatsappCallingEnabled/);
    expect(update.allOf).toContainEqual({
      not: {
        required: ['whatsappSipEnabled', 'whatsappCallingEnabled'],
        properties: { whatsappSipEnabled: { const: true }, whatsappCallingEnabled: { const: false } },
      },
    });
  });
});

/** What a user of a generated client writes; type-checked against the generated types, then run. */
const CLIENT_SOURCE = `
import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type Call = components['schemas']['Call'];

export async function scenario(baseUrl: string, keys: { admin: string; app: string }, appId: string) {
  const admin = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + keys.admin } });
  const app = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + keys.app } });
  const path = { params: { path: { appId } } };

  const configured = await admin.PUT('/v1/organization/apps/{appId}/calling', {
    ...path,
    body: { maxConcurrentCalls: 5, recordingFormat: 'ogg', whatsappCallingEnabled: true, whatsappSipEnabled: true },
  });
  const sipWithoutWhatsapp = await admin.PUT('/v1/organization/apps/{appId}/calling', {
    ...path,
    body: { whatsappCallingEnabled: false },
  });
  const readBack = await admin.GET('/v1/organization/apps/{appId}/calling', path);

  const badAddress = await app.POST('/v1/calls', { body: { from: 'nobody', to: '+15550199' } });
  const placed = await app.POST('/v1/calls', {
    body: { from: '+15550100', to: 'alice', toChannel: 'webrtc', metadata: { ticket: 42 } },
  });
  if (!placed.data) throw new Error('no call: ' + JSON.stringify(placed.error));
  const call: Call = placed.data;
  const fetched = await app.GET('/v1/calls/{id}', { params: { path: { id: call.id } } });
  const patched = await app.PATCH('/v1/calls/{id}', {
    params: { path: { id: call.id } },
    body: {
      callFlow: [
        { command: 'gather', maxNumKeys: 1, timeoutMs: 5000, prompt: { command: 'say', text: 'Press 1' } },
        { command: 'hangup' },
      ],
    },
  });
  const missing = await app.GET('/v1/calls/{id}', { params: { path: { id: 'call_' + '0'.repeat(27) } } });

  return {
    configured: { status: configured.response.status, maxConcurrentCalls: configured.data?.maxConcurrentCalls },
    sipWithoutWhatsapp: { status: sipWithoutWhatsapp.response.status, code: sipWithoutWhatsapp.error?.error.code },
    readBack: { status: readBack.response.status, whatsappSipEnabled: readBack.data?.whatsappSipEnabled },
    badAddress: {
      status: badAddress.response.status,
      fields: badAddress.error?.error.details?.map((detail) => detail.field),
    },
    placed: { status: placed.response.status, id: call.id, metadata: call.metadata, toChannel: call.toChannel },
    fetched: { status: fetched.response.status, id: fetched.data?.id },
    patched: { status: patched.response.status, code: patched.error?.error.code, message: patched.error?.error.message },
    missing: { status: missing.response.status, code: missing.error?.error.code },
  };
}
`;

function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    .filter((message) => message.length > 0);
}

describe('a client generated from the document', () => {
  it('type-checks against the API as a user calls it, and works against the running gateway', async () => {
    // defaultNonNullable off: fields with a default are optional in what a client sends.
    const types = astToString(await openapiTS(structuredClone(doc), { defaultNonNullable: false }));
    writeFileSync(join(dir, 'api.d.ts'), types);
    writeFileSync(join(dir, 'client.ts'), CLIENT_SOURCE);
    expect(typeErrors([join(dir, 'client.ts')])).toEqual([]);

    const { scenario } = await import(join(dir, 'client.ts'));
    const result = await scenario(running.url, { admin: KEYS.admin, app: KEYS.app }, TEST_APP_ID);
    expect(result.configured).toEqual({ status: 200, maxConcurrentCalls: 5 });
    // whatsappSipEnabled is stored true: turning WhatsApp calling off alone is refused.
    expect(result.sipWithoutWhatsapp).toEqual({ status: 400, code: 'invalid_request' });
    expect(result.readBack).toEqual({ status: 200, whatsappSipEnabled: true });
    expect(result.badAddress).toEqual({ status: 400, fields: ['from'] });
    expect(result.placed).toMatchObject({ status: 201, metadata: { ticket: 42 }, toChannel: 'webrtc' });
    expect(result.fetched).toEqual({ status: 200, id: result.placed.id });
    // The flow passed validation (no 400) and was refused for the call it names: a WebRTC call
    // has no SIP leg to run it on, and with no livekit-server here it may have failed already.
    expect(result.patched).toEqual({
      status: 409,
      code: 'conflict',
      message: expect.stringMatching(/ has no SIP leg to run a flow on$| already ended as failed$/),
    });
    expect(result.missing).toEqual({ status: 404, code: 'not_found' });
  });
});
