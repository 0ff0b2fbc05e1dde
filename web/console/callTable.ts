import type { ConsoleCall } from './api.js';

const LIVE = new Set(['initiated', 'ringing', 'in_progress', 'voicemail']);

export type CallAction = 'answer' | 'reject' | 'hang-up' | 'join';

/** Live calls first (oldest ringing at the top), then the most recent ended ones. */
export function orderCalls(calls: Iterable<ConsoleCall>, recentEnded = 10): ConsoleCall[] {
  const all = [...calls];
  const live = all
    .filter((call) => LIVE.has(call.status))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const ended = all
    .filter((call) => !LIVE.has(call.status))
    .sort((a, b) => (b.endedAt ?? '').localeCompare(a.endedAt ?? ''))
    .slice(0, recentEnded);
  return [...live, ...ended];
}

/** What a person may do with a call now. */
export function actionsFor(call: ConsoleCall, inRoom: boolean): CallAction[] {
  if (call.status === 'ringing' && call.direction === 'inbound') return ['answer', 'reject'];
  if (call.status === 'ringing' || call.status === 'initiated') return ['hang-up'];
  if (call.status === 'in_progress') return inRoom ? ['hang-up'] : ['join', 'hang-up'];
  return [];
}

const LABELS: Record<CallAction, string> = {
  answer: 'Answer',
  reject: 'Reject',
  'hang-up': 'Hang up',
  join: 'Join',
};

/** "0:42": waiting time while it rings, talk time once answered, the call's length once ended. */
export function elapsed(call: ConsoleCall, now: number): string {
  const from = Date.parse(call.answeredAt ?? call.startedAt);
  const to = call.endedAt ? Date.parse(call.endedAt) : now;
  const seconds = Math.max(0, Math.round((to - from) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** "MOS 4.3 · 0.0 % loss": the phone leg's quality at a glance; "–" before its first figures. */
export function qualitySummary(call: ConsoleCall): string {
  const quality = call.quality;
  if (!quality) return '–';
  const loss = `${(quality.packetLossRatio * 100).toFixed(1)} % loss`;
  return quality.mos === null ? loss : `MOS ${quality.mos.toFixed(1)} · ${loss}`;
}

/** The whole of it, for the call being talked on. */
export function qualityDetail(call: ConsoleCall): string {
  const quality = call.quality;
  if (!quality) return 'Call quality: measuring…';
  const parts = [
    quality.mos === null ? null : `MOS ${quality.mos.toFixed(1)}`,
    `packet loss ${(quality.packetLossRatio * 100).toFixed(1)} %`,
    `jitter ${quality.jitterMs.toFixed(0)} ms`,
    quality.roundTripMs === null ? null : `round trip ${quality.roundTripMs.toFixed(0)} ms`,
  ];
  return `Call quality: ${parts.filter((part) => part !== null).join(', ')}`;
}

/** Who is in the room: the agents and browsers by identity, bridged phone legs as "phone". */
export function roomSummary(call: ConsoleCall): string {
  if (call.participants.length === 0) return call.endedAt ? '' : 'nobody';
  return call.participants
    .map(({ identity }) => (identity.startsWith('sip_') ? 'phone' : identity))
    .join(', ');
}

/** Rewrites the table body; buttons carry data-call and data-action for one delegated handler. */
export function renderCalls(
  body: HTMLElement,
  calls: ConsoleCall[],
  activeCallId: string | null,
  now: number,
): void {
  const rows = calls.map((call) => {
    const row = document.createElement('tr');
    row.dataset.call = call.id;
    row.dataset.status = call.status;
    if (call.status === 'ringing') row.className = 'ringing';
    const cells = [
      call.direction === 'inbound' ? call.fromAddress : call.toAddress,
      call.direction === 'inbound' ? call.toAddress : call.fromAddress,
      call.direction === 'inbound' ? call.fromChannel : call.toChannel,
      call.endReason ? `${call.status} (${call.endReason})` : call.status.replace('_', ' '),
      elapsed(call, now),
      roomSummary(call),
      qualitySummary(call),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const actions = document.createElement('td');
    actions.className = 'actions';
    for (const action of actionsFor(call, call.id === activeCallId)) {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.call = call.id;
      button.dataset.action = action;
      button.textContent = LABELS[action];
      if (action === 'answer') button.className = 'primary';
      if (action === 'hang-up' || action === 'reject') button.className = 'danger';
      button.setAttribute('aria-label', `${LABELS[action]} ${cells[0]}`);
      actions.append(button);
    }
    row.append(actions);
    return row;
  });
  body.replaceChildren(...rows);
}
