/**
 * baresip (Debian) as a real far end: its own SIP stack, SRTP (libre's), codecs and jitter buffer,
 * none of it written here. It plays a tone from a WAV file (aufile source) and the sndfile filter
 * writes what it decoded from us to `dump-<time>-dec.wav`, so both directions of a call can be
 * checked by frequency and level. Driven over its ctrl_tcp module (netstring JSON): dial, hangup,
 * and the call events it reports.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, freeUdpPort } from '../../src/launcher/freePorts.js';
import { toneWav } from './toneWav.js';

export interface BaresipOptions {
  /**
   * baresip's media encryption: srtp-mand (SDES, RTP/SAVP), srtp (best effort, RTP/AVP),
   * dtls_srtp (DTLS-SRTP on UDP/TLS/RTP/SAVPF, SHA-256 fingerprint; as offerer `a=setup:actpass`,
   * as answerer always `a=setup:active`), none.
   */
  mediaenc: 'srtp-mand' | 'srtp' | 'dtls_srtp' | null;
  /**
   * Full ICE (ice.so, RFC 5245, no trickle). baresip 1.0's ICE gathers host candidates from every
   * interface but loopback and link-local, whatever `net_interface` says: its candidates, and the
   * c= and m= it puts in the SDP, are the host's other addresses, never 127.0.0.1 (on a host with
   * loopback only, gathering fails and no INVITE leaves). Its RTP sockets listen on every address:
   * checks between it and a 127.0.0.1 peer work, but its packets to 127.0.0.1 (responses too) come
   * from 127.0.0.1, not the candidate address. An answer to its ICE offer must carry ICE
   * (ufrag, pwd, candidates): without, the call is established but DTLS never starts.
   */
  medianat?: 'ice' | null;
  /** Offer (or accept) `a=rtcp-mux` (baresip's `rtcp_mux`, off by default: RTCP on port + 1). */
  rtcpMux?: boolean;
  /** Print every SIP message it sends and receives (`-s`), see {@link sipTrace}. */
  sipTrace?: boolean;
  /** Debug logging (`-v`): ICE checks and DTLS steps, among others. */
  verbose?: boolean;
  codec: 'PCMU' | 'opus';
  /** The tone it sends. */
  toneHz: number;
  /** Answer incoming calls at once (as a callee). */
  autoAnswer?: boolean;
  /** The user part of its address: a callee only takes requests for it (default `far`). */
  user?: string;
}

export interface BaresipEvent {
  type: string;
  [key: string]: unknown;
}

/** What baresip heard: mono samples of the first channel and their rate. */
export interface DecodedAudio {
  samples: Int16Array;
  sampleRate: number;
}

const TONE_SECONDS = 60;
const TONE_RATE = 8000;

export class Baresip extends EventEmitter<{ event: [BaresipEvent] }> {
  private buffered = Buffer.alloc(0);
  private readonly log: string[] = [];
  private token = 0;
  private readonly replies = new Map<string, (reply: { ok: boolean; data: string }) => void>();

  private constructor(
    readonly dir: string,
    readonly sipPort: number,
    private readonly child: ChildProcess,
    private readonly control: Socket,
  ) {
    super();
    control.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /**
   * Starts baresip on free ports. Its SIP ports are picked free but bound by baresip a moment
   * later (and TLS on the next port up, which nobody checked), so another process can take one
   * first: baresip then exits with EADDRINUSE, and it is started again on other ports.
   */
  static async start(options: BaresipOptions): Promise<Baresip> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Baresip.startOnce(options);
      } catch (error) {
        if (attempt >= 5 || !(error as Error).message.includes('Address already in use')) throw error;
      }
    }
  }

  private static async startOnce(options: BaresipOptions): Promise<Baresip> {
    const dir = await mkdtemp(join(tmpdir(), 'baresip-'));
    const sipPort = await freeUdpPort();
    const controlPort = await freeTcpPort();
    const rtpBase = await freeUdpPort();
    await writeFile(
      join(dir, 'tone.wav'),
      toneWav(options.toneHz, { sampleRate: TONE_RATE, seconds: TONE_SECONDS }),
    );
    await writeFile(join(dir, 'config'), baresipConfig(options, { dir, sipPort, controlPort, rtpBase }));
    await writeFile(join(dir, 'accounts'), baresipAccount(options, sipPort));
    const args = ['-f', dir, ...(options.sipTrace ? ['-s'] : []), ...(options.verbose ? ['-v'] : [])];
    const child = spawn('baresip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const ready = new Promise<void>((resolve, reject) => {
      const onOutput = (chunk: Buffer): void => {
        lines.push(chunk.toString());
        if (lines.join('').includes('baresip is ready')) resolve();
      };
      child.stdout?.on('data', onOutput);
      child.stderr?.on('data', onOutput);
      child.once('exit', (code) => reject(new Error(`baresip exited (${code}): ${lines.join('')}`)));
      child.once('error', reject);
    });
    try {
      await ready;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const control = connect(controlPort, '127.0.0.1');
    await once(control, 'connect');
    const baresip = new Baresip(dir, sipPort, child, control);
    child.stdout?.on('data', (chunk: Buffer) => baresip.log.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => baresip.log.push(chunk.toString()));
    return baresip;
  }

  /** What baresip printed, for a failing test's message. */
  output(): string {
    return this.log.join('');
  }

  /** The SIP messages it sent and received so far (needs `sipTrace`). */
  sipTrace(): TracedSipMessage[] {
    return parseSipTrace(this.output());
  }

  async dial(uri: string): Promise<void> {
    await this.command('dial', uri);
  }

  /** Puts the call on hold (a sendonly re-INVITE) or takes it off hold (sendrecv). */
  async hold(on: boolean): Promise<void> {
    await this.command(on ? 'hold' : 'resume', '');
  }

  /** Sends DTMF as RFC 4733 events (baresip's sndcode). */
  async sendDtmf(digits: string): Promise<void> {
    await this.command('sndcode', digits);
  }

  async hangup(): Promise<void> {
    await this.command('hangup', '');
  }

  /** The next event of this type (CALL_ESTABLISHED, CALL_CLOSED, …). */
  nextEvent(type: string, timeoutMs = 15_000): Promise<BaresipEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new Error(`baresip sent no ${type} within ${timeoutMs} ms:\n${this.output().slice(-3000)}`));
      }, timeoutMs);
      const onEvent = (event: BaresipEvent): void => {
        if (event.type !== type) return;
        clearTimeout(timer);
        this.off('event', onEvent);
        resolve(event);
      };
      this.on('event', onEvent);
    });
  }

  /** The audio baresip decoded from us in its last call (the file is complete once the call closed). */
  async decoded(): Promise<DecodedAudio> {
    const name = (await readdir(this.dir)).find((file) => file.endsWith('-dec.wav'));
    if (!name) throw new Error(`baresip wrote no decode dump:\n${this.output().slice(-3000)}`);
    return readWav(await readFile(join(this.dir, name)));
  }

  async stop(): Promise<void> {
    this.control.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async command(command: string, params: string): Promise<string> {
    const token = String(++this.token);
    const json = Buffer.from(JSON.stringify({ command, params, token }));
    const reply = new Promise<{ ok: boolean; data: string }>((resolve) => this.replies.set(token, resolve));
    this.control.write(Buffer.concat([Buffer.from(`${json.length}:`), json, Buffer.from(',')]));
    const { ok, data } = await reply;
    if (!ok) throw new Error(`baresip ${command} failed: ${data}`);
    return data;
  }

  /** Netstrings: `<length>:<json>,`, one message each. */
  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const colon = this.buffered.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.buffered.subarray(0, colon).toString());
      if (this.buffered.length < colon + 1 + length + 1) return;
      const message = JSON.parse(this.buffered.subarray(colon + 1, colon + 1 + length).toString());
      this.buffered = this.buffered.subarray(colon + 1 + length + 1);
      if (message.response) this.replies.get(String(message.token))?.({ ok: message.ok, data: message.data });
      else if (message.event) this.emit('event', message as BaresipEvent);
    }
  }
}

export interface TracedSipMessage {
  transport: string;
  /** `ip:port` it went from and to. */
  source: string;
  destination: string;
  /** The message byte for byte as it went on the wire (CRLF line ends). */
  message: string;
  /** Its body, after the blank line ('' if none). */
  body: string;
}

/**
 * The SIP messages in baresip's output with `-s`: each is printed as a `#` line and a
 * `UDP <from> -> <to>` line, then the message as sent, between colour escapes.
 */
export function parseSipTrace(output: string): TracedSipMessage[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the trace is framed by ANSI escapes.
  const framed = /\x1b\[36;1m#\n(\w+) (\S+) -> (\S+)\n([\s\S]*?)\x1b\[;m/g;
  return [...output.matchAll(framed)].map(
    ([, transport = '', source = '', destination = '', message = '']) => {
      const split = message.indexOf('\r\n\r\n');
      return { transport, source, destination, message, body: split < 0 ? '' : message.slice(split + 4) };
    },
  );
}

export interface BaresipPorts {
  dir: string;
  sipPort: number;
  controlPort: number;
  rtpBase: number;
}

/** The account line: its address and the per-account media settings. */
export function baresipAccount(options: BaresipOptions, sipPort: number): string {
  const params = [
    'regint=0',
    options.mediaenc ? `mediaenc=${options.mediaenc}` : null,
    options.medianat ? `medianat=${options.medianat}` : null,
    options.autoAnswer ? 'answermode=auto' : null,
    `audio_codecs=${options.codec === 'opus' ? 'opus/48000/2' : 'PCMU'}`,
  ].filter((param) => param !== null);
  return `<sip:${options.user ?? 'far'}@127.0.0.1:${sipPort}>;${params.join(';')}\n`;
}

/** The config file; dtls_srtp and ice are loaded only when the account uses them. */
export function baresipConfig(
  options: BaresipOptions,
  { dir, sipPort, controlPort, rtpBase }: BaresipPorts,
): string {
  return `${[
    `sip_listen 127.0.0.1:${sipPort}`,
    // Loopback in its SDP too, not the host's first interface.
    'net_interface 127.0.0.1',
    `audio_source aufile,${join(dir, 'tone.wav')}`,
    // A player nobody reads: the sndfile filter records the decoded audio before it.
    'audio_player aubridge,nowhere',
    'audio_alert aubridge,nowhere',
    `ausrc_srate ${TONE_RATE}`,
    'ausrc_channels 1',
    'auplay_channels 1',
    `rtp_ports ${rtpBase}-${rtpBase + 10}`,
    `rtcp_mux ${options.rtcpMux ? 'yes' : 'no'}`,
    'rtp_timeout 0',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module opus.so',
    'module aufile.so',
    'module aubridge.so',
    'module sndfile.so',
    // dial, hangup and the other commands ctrl_tcp runs are the menu's.
    'module menu.so',
    'module srtp.so',
    // Generates its RSA-2048 certificate on load.
    options.mediaenc === 'dtls_srtp' ? 'module dtls_srtp.so' : null,
    options.medianat === 'ice' ? 'module ice.so' : null,
    // Reads the accounts file: without it baresip has no user agent at all.
    'module_app account.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
    `snd_path ${dir}`,
    'opus_stereo no',
    'opus_sprop_stereo no',
  ]
    .filter((line) => line !== null)
    .join('\n')}\n`;
}

/** The first channel of a 16-bit PCM WAV; a data chunk whose size was never written runs to the end. */
function readWav(file: Buffer): DecodedAudio {
  let offset = 12;
  let channels = 1;
  let sampleRate = 8000;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = file.readUInt16LE(offset + 10);
      sampleRate = file.readUInt32LE(offset + 12);
    } else if (id === 'data') {
      const end = size === 0 || offset + 8 + size > file.length ? file.length : offset + 8 + size;
      const frames = Math.floor((end - offset - 8) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = file.readInt16LE(offset + 8 + i * 2 * channels);
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('no data chunk in the WAV file');
}
