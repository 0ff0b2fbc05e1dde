/** A call as the gateway's API returns it (the fields the console shows). */
export interface ConsoleCall {
  id: string;
  appId: string;
  direction: 'inbound' | 'outbound';
  status: string;
  fromAddress: string;
  toAddress: string;
  fromChannel: string;
  toChannel: string;
  endReason: string | null;
  livekitRoomName: string | null;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  /** How the phone's audio arrives: null until the leg's first RTP. */
  quality: CallQuality | null;
  /** Who is in the call's room now (agents, bridged legs). */
  participants: { identity: string; joinedAt: string }[];
}

export interface CallQuality {
  packetLossRatio: number;
  jitterMs: number;
  roundTripMs: number | null;
  mos: number | null;
}

/** A recording appeared, ended or went (the feed's `recording` event). */
export interface RecordingChange {
  id: string;
  callId: string;
  state: string;
}

export interface CallToken {
  token: string;
  url: string;
  roomName: string;
  identity: string;
}

export class ApiFailed extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The gateway's REST API and call feed, with the key the person signed in with. */
export class ConsoleApi {
  constructor(private readonly key: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as unknown) : null;
    if (!response.ok) {
      const message =
        (json as { error?: { message?: string } } | null)?.error?.message ?? response.statusText;
      throw new ApiFailed(response.status, message);
    }
    return json as T;
  }

  action(callId: string, action: 'accept' | 'reject' | 'pre_accept'): Promise<ConsoleCall> {
    return this.request('POST', `/v1/calls/${callId}/actions`, { action });
  }

  hangUp(callId: string): Promise<ConsoleCall> {
    return this.request('PATCH', `/v1/calls/${callId}`, { status: 'completed' });
  }

  token(callId: string, identity: string): Promise<CallToken> {
    return this.request('POST', `/v1/calls/${callId}/tokens`, { identity, name: 'Agent' });
  }

  place(body: { from: string; to: string; toChannel: string }): Promise<ConsoleCall> {
    return this.request('POST', '/v1/calls', body);
  }

  /** A file the API serves (a recording's media), fetched with the key. */
  async media(path: string): Promise<Blob> {
    const response = await fetch(path, { headers: { authorization: `Bearer ${this.key}` } });
    if (!response.ok) throw new ApiFailed(response.status, `could not fetch ${path} (${response.status})`);
    return response.blob();
  }

  /** Signs out a link's session on the server; nothing to do for an API key. */
  async closeSession(): Promise<void> {
    if (this.key.startsWith('cs_')) await this.request('DELETE', '/v1/console/sessions/current');
  }

  /**
   * Follows /v1/calls/stream until `signal` aborts: the snapshot, then each change. Reconnects
   * after a break (with a fresh snapshot), so a gateway restart only pauses the list.
   */
  async follow(
    handlers: {
      snapshot(calls: ConsoleCall[]): void;
      call(call: ConsoleCall): void;
      quality(callId: string, quality: CallQuality): void;
      recording(change: RecordingChange): void;
      state(connected: boolean, why?: string): void;
    },
    signal: AbortSignal,
  ): Promise<void> {
    while (!signal.aborted) {
      try {
        const response = await fetch('/v1/calls/stream', {
          headers: { authorization: `Bearer ${this.key}` },
          signal,
        });
        if (!response.ok || !response.body) throw new ApiFailed(response.status, 'the call feed was refused');
        handlers.state(true);
        await readEvents(response.body, (event, data) => {
          if (event === 'snapshot') handlers.snapshot((data as { data: ConsoleCall[] }).data);
          else if (event === 'call') handlers.call(data as ConsoleCall);
          else if (event === 'quality') {
            const update = data as { callId: string; quality: CallQuality };
            handlers.quality(update.callId, update.quality);
          } else if (event === 'recording') handlers.recording(data as RecordingChange);
        });
        handlers.state(false, 'the call feed ended');
      } catch (error) {
        if (signal.aborted) return;
        handlers.state(false, (error as Error).message);
        if (error instanceof ApiFailed && (error.status === 401 || error.status === 403)) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

export interface ConsoleSession {
  token: string;
  role: 'admin' | 'app';
  appId: string | null;
  expiresAt: string;
}

/** Exchanges a console link's one-time code for a session token. */
export async function openSession(code: string): Promise<ConsoleSession> {
  const response = await fetch('/v1/console/sessions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  const json = (await response.json()) as ConsoleSession & { error?: { message?: string } };
  if (!response.ok) throw new ApiFailed(response.status, json.error?.message ?? response.statusText);
  return json;
}

/** Server-Sent Events from a fetch body: `event:` and `data:` lines, a blank line ends each. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string, data: unknown) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) onEvent(event, JSON.parse(data));
      end = buffer.indexOf('\n\n');
    }
  }
}
