import { GRAPH_DEFAULT_BASE_URLS, type GraphNumberConfig } from '../../config/whatsappGraphSchema.js';

/** The call actions a business sends (Meta's Cloud API calling, 360dialog's wrapper of it). */
export type GraphCallAction = 'pre_accept' | 'accept' | 'reject' | 'terminate';

/** A provider answered an action with an error: its HTTP status and, when it said, Meta's code. */
export class GraphApiError extends Error {
  override readonly name = 'GraphApiError';
  constructor(
    readonly status: number | null,
    readonly code: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** Meta's error for a call to a user who gave the business no call permission. */
export const NO_CALL_PERMISSION = 138_006;

/** Longest a provider may take to answer one attempt. */
const REQUEST_TIMEOUT_MS = 5000;
/**
 * Pauses before trying a request again after a timeout or a 5xx. Only requests that may be
 * repeated are: call actions on a known call and settings are idempotent at Meta, a `connect` is
 * not (a second one would ring the user twice).
 */
const RETRY_DELAYS_MS = [250, 1000];

/**
 * One business number's calling API at its provider: Meta's Graph API
 * (`POST /<PHONE_NUMBER_ID>/calls`, Bearer token) or 360dialog's (`POST /calling/calls`,
 * D360-API-KEY); the bodies are the same. The token is sent, never logged.
 */
export class GraphApi {
  private readonly baseUrl: string;

  constructor(
    private readonly number: Pick<
      GraphNumberConfig,
      'provider' | 'baseUrl' | 'accessToken' | 'phoneNumberId'
    >,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {
    this.baseUrl = (number.baseUrl ?? GRAPH_DEFAULT_BASE_URLS[number.provider]).replace(/\/+$/, '');
  }

  /** Sends `action` for the call `wacid`, with our SDP answer where the action carries one. */
  async callAction(wacid: string, action: GraphCallAction, answerSdp?: string): Promise<void> {
    await this.retried('POST', this.callsPath(), {
      messaging_product: 'whatsapp',
      call_id: wacid,
      action,
      ...(answerSdp === undefined ? {} : { session: { sdp_type: 'answer', sdp: answerSdp } }),
    });
  }

  /**
   * Whether the user `to` (E.164 or their WhatsApp id) lets the business call them now:
   * Meta's call_permissions says `granted` and start_call is an action it can perform.
   */
  async mayCall(to: string): Promise<boolean> {
    const user = encodeURIComponent(to.replace(/^\+/, ''));
    const path =
      this.number.provider === 'meta'
        ? `/${this.number.phoneNumberId}/call_permissions?user_wa_id=${user}`
        : `/calling/permissions/${user}`;
    const answer = (await this.retried('GET', path)) as {
      permission?: { status?: unknown };
      actions?: { action_name?: unknown; can_perform_action?: unknown }[];
    } | null;
    if (answer?.permission?.status !== 'granted') return false;
    const start = answer.actions?.find((action) => action.action_name === 'start_call');
    return start === undefined || start.can_perform_action === true;
  }

  /** Places a call to `to` with our SDP offer; resolves with the call's wacid. */
  async connect(to: string, offerSdp: string): Promise<string> {
    const answer = (await this.post(this.callsPath(), {
      messaging_product: 'whatsapp',
      to: to.replace(/^\+/, ''),
      action: 'connect',
      session: { sdp_type: 'offer', sdp: offerSdp },
    })) as { calls?: { id?: unknown }[] } | null;
    const wacid = answer?.calls?.[0]?.id;
    if (typeof wacid !== 'string' || wacid === '')
      throw new GraphApiError(200, null, `${this.number.provider} answered connect without a call id`);
    return wacid;
  }

  /** Replaces the number's calling settings (`POST /<PHONE_NUMBER_ID>/settings`). */
  async pushSettings(settings: Record<string, unknown>): Promise<void> {
    const path =
      this.number.provider === 'meta' ? `/${this.number.phoneNumberId}/settings` : '/calling/settings';
    await this.retried('POST', path, settings);
  }

  private callsPath(): string {
    return this.number.provider === 'meta' ? `/${this.number.phoneNumberId}/calls` : '/calling/calls';
  }

  private headers(): Record<string, string> {
    const [name, value] =
      this.number.provider === 'meta'
        ? ['authorization', `Bearer ${this.number.accessToken}`]
        : ['d360-api-key', this.number.accessToken];
    return { [name]: value, 'content-type': 'application/json' };
  }

  private post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  /** A request that may be repeated: again after a timeout, a network error or a 5xx. */
  private async retried(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(method, path, body);
      } catch (error) {
        const delay = this.retryDelaysMs[attempt];
        const transient = error instanceof GraphApiError && (error.status === null || error.status >= 500);
        if (!transient || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new GraphApiError(null, null, `${this.number.provider} unreachable: ${(error as Error).message}`);
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (!response.ok) {
      const error = (parsed as { error?: { message?: unknown; code?: unknown } } | null)?.error;
      const message = typeof error?.message === 'string' ? error.message : text.slice(0, 200);
      throw new GraphApiError(
        response.status,
        typeof error?.code === 'number' ? error.code : null,
        `${this.number.provider} answered ${response.status}: ${message}`,
      );
    }
    return parsed;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
