import type { ConsoleApi } from './api.js';

/** A recording as GET /v1/recordings returns it (the fields the console shows). */
export interface ConsoleRecording {
  id: string;
  callId: string;
  kind: 'call' | 'voicemail' | 'flow';
  format: string;
  state: 'recording' | 'completed' | 'failed' | 'interrupted';
  durationMs: number | null;
  bytes: number | null;
  startedAt: string;
  mediaUrl: string;
}

const KIND_LABELS: Record<ConsoleRecording['kind'], string> = {
  call: 'Call',
  voicemail: 'Voicemail',
  flow: 'Message',
};

function duration(ms: number | null): string {
  if (ms === null) return '–';
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * The app's recent recordings and voicemail messages, each playable in the page and deletable.
 * The media is fetched with the signed-in key (an <audio src> cannot send one) and played from a
 * blob URL, which the page's CSP allows and which is let go when another one plays.
 */
export class RecordingList {
  private playing: string | null = null;

  constructor(
    private readonly api: () => ConsoleApi | null,
    private readonly rows: HTMLElement,
    private readonly player: HTMLAudioElement,
    private readonly status: HTMLElement,
  ) {
    rows.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest('button');
      const id = button?.dataset.recording;
      if (!button || !id) return;
      const run = button.dataset.action === 'delete' ? this.remove(id) : this.play(id);
      run.catch((error: unknown) => {
        this.status.textContent = (error as Error).message;
      });
    });
  }

  async refresh(): Promise<void> {
    const api = this.api();
    if (!api) return;
    const list = await api.request<{ data: ConsoleRecording[] }>('GET', '/v1/recordings?limit=20');
    this.render(list.data);
  }

  clear(): void {
    this.rows.replaceChildren();
    this.stop();
  }

  private render(recordings: ConsoleRecording[]): void {
    this.status.textContent = recordings.length === 0 ? 'No recordings yet.' : '';
    this.rows.replaceChildren(
      ...recordings.map((recording) => {
        const row = document.createElement('tr');
        row.dataset.recording = recording.id;
        row.dataset.state = recording.state;
        const when = new Date(recording.startedAt).toLocaleString();
        for (const text of [
          KIND_LABELS[recording.kind],
          when,
          duration(recording.durationMs),
          recording.state,
        ]) {
          const cell = document.createElement('td');
          cell.textContent = text;
          row.append(cell);
        }
        const actions = document.createElement('td');
        actions.className = 'actions';
        if (recording.state !== 'recording') {
          actions.append(
            this.button(recording, 'play', 'Play', `Play ${KIND_LABELS[recording.kind]} of ${when}`),
            this.button(recording, 'delete', 'Delete', `Delete ${KIND_LABELS[recording.kind]} of ${when}`),
          );
        }
        row.append(actions);
        return row;
      }),
    );
  }

  private button(
    recording: ConsoleRecording,
    action: string,
    label: string,
    aria: string,
  ): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.recording = recording.id;
    button.dataset.action = action;
    button.textContent = label;
    button.setAttribute('aria-label', aria);
    if (action === 'delete') button.className = 'danger';
    return button;
  }

  private async play(id: string): Promise<void> {
    const api = this.api();
    if (!api) return;
    const blob = await api.media(`/v1/recordings/${id}/media`);
    this.stop();
    this.playing = id;
    this.player.src = URL.createObjectURL(blob);
    this.player.hidden = false;
    this.player.dataset.recording = id;
    await this.player.play();
  }

  private async remove(id: string): Promise<void> {
    const api = this.api();
    if (!api) return;
    if (!confirm('Delete this recording? It cannot be brought back.')) return;
    await api.request('DELETE', `/v1/recordings/${id}`);
    if (this.playing === id) this.stop();
    await this.refresh();
  }

  private stop(): void {
    this.player.pause();
    if (this.player.src.startsWith('blob:')) URL.revokeObjectURL(this.player.src);
    this.player.removeAttribute('src');
    delete this.player.dataset.recording;
    this.player.hidden = true;
    this.playing = null;
  }
}
