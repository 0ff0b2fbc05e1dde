import { ApiFailed, ConsoleApi, type ConsoleCall, openSession } from './api.js';
import { CallRoom } from './callRoom.js';
import { type CallAction, orderCalls, qualityDetail, renderCalls } from './callTable.js';
import { RecordingList } from './recordings.js';

/**
 * The agent console: sign in with an app key or a one-time console link (the key or the link's
 * session token kept in sessionStorage only: never in a URL or a cookie), the app's calls pushed live, answer / reject / hang up, and the call's audio in the
 * browser with mute, hold, a keypad and level meters.
 */
const KEY_STORAGE = 'gateway.console.apiKey';

const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} missing from the page`);
  return element as T;
};

const calls = new Map<string, ConsoleCall>();
let api: ConsoleApi | null = null;
let feed: AbortController | null = null;
let room: CallRoom | null = null;
let activeCallId: string | null = null;
let recordings: RecordingList | null = null;

function render(): void {
  renderCalls($('call-rows'), orderCalls(calls.values()), activeCallId, Date.now());
  const active = activeCallId ? calls.get(activeCallId) : undefined;
  $('active').hidden = !room;
  if (active) {
    $('active-caller').textContent =
      `${active.fromAddress} → ${active.toAddress} (${active.status.replace('_', ' ')})`;
    $('active-quality').textContent = qualityDetail(active);
  }
}

async function signIn(key: string): Promise<void> {
  const candidate = new ConsoleApi(key);
  await candidate.request('GET', '/v1/calls?limit=1');
  sessionStorage.setItem(KEY_STORAGE, key);
  api = candidate;
  $('sign-in').hidden = true;
  $('calls').hidden = false;
  $('place').hidden = false;
  $('recordings').hidden = false;
  $('sign-out').hidden = false;
  void recordings?.refresh();
  feed = new AbortController();
  void candidate.follow(
    {
      snapshot: (list) => {
        calls.clear();
        for (const call of list) calls.set(call.id, call);
        render();
      },
      call: (call) => {
        calls.set(call.id, call);
        if (call.id === activeCallId && call.endedAt) void leaveRoom();
        render();
      },
      quality: (callId, quality) => {
        const call = calls.get(callId);
        if (call) calls.set(callId, { ...call, quality });
        render();
      },
      recording: () => void recordings?.refresh(),
      state: (connected, why) => {
        $('feed-state').textContent = connected ? 'Live' : `Reconnecting… (${why ?? 'no feed'})`;
      },
    },
    feed.signal,
  );
}

function signOut(): void {
  // A link's session ends on the server too; an API key simply stops being used here.
  void api?.closeSession().catch(() => undefined);
  sessionStorage.removeItem(KEY_STORAGE);
  feed?.abort();
  void leaveRoom();
  api = null;
  calls.clear();
  $('sign-in').hidden = false;
  $('calls').hidden = true;
  $('place').hidden = true;
  $('recordings').hidden = true;
  recordings?.clear();
  $('sign-out').hidden = true;
}

async function joinCall(callId: string): Promise<void> {
  if (!api) return;
  if (room) await leaveRoom();
  const grant = await api.token(callId, `agent-${crypto.randomUUID().slice(0, 8)}`);
  const joined = new CallRoom(() => {
    if (room === joined) void leaveRoom();
  });
  room = joined;
  activeCallId = callId;
  render();
  await joined.join(grant);
  exposeForDiagnostics(joined);
}

async function leaveRoom(): Promise<void> {
  const leaving = room;
  room = null;
  delete (window as unknown as { consoleAudio?: CallRoom }).consoleAudio;
  activeCallId = null;
  render();
  await leaving?.leave();
}

async function act(callId: string, action: CallAction): Promise<void> {
  if (!api) return;
  if (action === 'answer') {
    await api.action(callId, 'accept');
    await joinCall(callId);
  } else if (action === 'reject') {
    await api.action(callId, 'reject');
  } else if (action === 'join') {
    await joinCall(callId);
  } else {
    await api.hangUp(callId);
    if (callId === activeCallId) await leaveRoom();
  }
}

/** The meters, and what the page hears, for the person and for tests reading the page. */
function exposeForDiagnostics(joined: CallRoom): void {
  (window as unknown as { consoleAudio: CallRoom }).consoleAudio = joined;
}

function wire(): void {
  recordings = new RecordingList(
    () => api,
    $('recording-rows'),
    $<HTMLAudioElement>('player'),
    $('recordings-status'),
  );
  $('recordings-refresh').addEventListener('click', () => void recordings?.refresh());
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('api-key');
    signIn(input.value.trim()).then(
      () => {
        input.value = '';
        $('sign-in-error').textContent = '';
      },
      (error: unknown) => {
        $('sign-in-error').textContent =
          error instanceof ApiFailed && error.status === 401
            ? 'That key is not valid.'
            : (error as Error).message;
      },
    );
  });
  $('sign-out').addEventListener('click', signOut);
  $('call-rows').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest('button');
    const callId = button?.dataset.call;
    const action = button?.dataset.action as CallAction | undefined;
    if (!button || !callId || !action) return;
    button.disabled = true;
    act(callId, action).catch((error: unknown) => {
      button.disabled = false;
      $('feed-state').textContent = `Could not ${action.replace('-', ' ')}: ${(error as Error).message}`;
    });
  });
  $('hang-up').addEventListener('click', () => {
    if (activeCallId) void act(activeCallId, 'hang-up');
  });
  for (const id of ['mute', 'hold'] as const) {
    $(id).addEventListener('click', () => {
      const button = $(id);
      const pressed = button.getAttribute('aria-pressed') !== 'true';
      button.setAttribute('aria-pressed', String(pressed));
      void (id === 'mute' ? room?.setMuted(pressed) : room?.setHeld(pressed));
    });
  }
  const keypad = $('keypad');
  for (const digit of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
    const key = document.createElement('button');
    key.type = 'button';
    key.textContent = digit;
    key.dataset.digit = digit;
    key.setAttribute('aria-label', `Key ${digit}`);
    keypad.append(key);
  }
  keypad.addEventListener('click', (event) => {
    const digit = (event.target as HTMLElement).closest('button')?.dataset.digit;
    if (digit) void room?.pressKey(digit);
  });
  $('place-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const to = $<HTMLInputElement>('place-to').value.trim();
    const from = $<HTMLInputElement>('place-from').value.trim();
    const toChannel = $<HTMLSelectElement>('place-channel').value;
    api?.place({ from, to, toChannel }).then(
      (call) => {
        $('place-error').textContent = '';
        calls.set(call.id, call);
        render();
        return joinCall(call.id);
      },
      (error: unknown) => {
        $('place-error').textContent = (error as Error).message;
      },
    );
  });
  // Waiting and talk times tick; meters move.
  setInterval(render, 1000);
  const meters = (): void => {
    const levels = room?.levels() ?? { caller: 0, me: 0 };
    $<HTMLMeterElement>('caller-level').value = levels.caller;
    $<HTMLMeterElement>('my-level').value = levels.me;
    requestAnimationFrame(meters);
  };
  requestAnimationFrame(meters);
  const code = linkCode();
  if (code) void signInWithLink(code);
  else {
    const saved = sessionStorage.getItem(KEY_STORAGE);
    if (saved) signIn(saved).catch(() => signOut());
  }
}

/**
 * A console link's one-time code, from the URL's fragment (which the browser never sends to a
 * server); taken out of the address bar and history at once, so it is not left to be copied.
 */
function linkCode(): string | null {
  const code = new URLSearchParams(location.hash.slice(1)).get('code');
  if (code) history.replaceState(null, '', location.pathname + location.search);
  return code;
}

async function signInWithLink(code: string): Promise<void> {
  try {
    const session = await openSession(code);
    await signIn(session.token);
  } catch (error) {
    $('sign-in-error').textContent =
      error instanceof ApiFailed && error.status === 401
        ? 'This console link was already used or has expired: ask for a new one, or sign in with a key.'
        : (error as Error).message;
  }
}

wire();
