/**
 * Asks a starting gateway for a one-time console link, once its API answers. The admin key stays
 * in this process: what is printed is a code good for one sign-in, for minutes, and it travels in
 * the URL's fragment, which the browser never sends to the server or puts in a Referer.
 */
export async function requestConsoleLink(options: {
  baseUrl: string;
  adminKey: string;
  /** The app whose console the link opens; null: the admin's own view (which cannot place calls). */
  appId: string | null;
  /** How long to wait for the gateway's API to come up. */
  timeoutMs: number;
  /** Stops waiting early (the gateway exited). */
  signal?: AbortSignal;
}): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline && !options.signal?.aborted) {
    try {
      const response = await fetch(`${options.baseUrl}/v1/console/links`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(options.appId ? { appId: options.appId } : {}),
      });
      const body = (await response.json()) as { url?: string; error?: { message?: string } };
      if (response.ok && body.url) return `${options.baseUrl}${body.url}`;
      // The gateway answered and said no: waiting longer will not change that.
      throw new Error(`the gateway refused a console link: ${body.error?.message ?? response.status}`);
    } catch (error) {
      if ((error as Error).message.startsWith('the gateway refused')) throw error;
      lastError = (error as Error).message;
    }
    // Polling a process that is starting: there is no event to wait on from outside it.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the gateway's API did not answer at ${options.baseUrl} (${lastError})`);
}
