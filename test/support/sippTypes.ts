/**
 * Types for the sipp test harness (`sipp.ts`). sipp here is Debian's sip-tester 3.6.1, built with
 * SCTP, PCAP play and RTP streaming but without OpenSSL: it has no TLS transport (`-t l1` exits
 * with "To use a TLS transport you must compile SIPp with OpenSSL").
 */

/**
 * sipp's `-t` transport modes that this build supports: UDP with one socket (`u1`) or one socket per
 * call (`un`), TCP with one connection (`t1`) or one per call (`tn`).
 */
export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

/** Scenarios compiled into sipp, selected with `-sn`. `uac_pcap` plays `pcap/g711a.pcap` (linked in the work folder). */
export type SippBuiltinScenario =
  | 'uac'
  | 'uas'
  | 'uac_pcap'
  | 'regexp'
  | 'branchc'
  | 'branchs'
  | '3pcc-C-A'
  | '3pcc-C-B'
  | '3pcc-A'
  | '3pcc-B';

/** Options shared by client runs and servers. */
export interface SippCommonOptions {
  /**
   * A built-in scenario name (`uac`, `uas`, …), a file name in `test/scenarios` (`uac-cancel` or
   * `uac-cancel.xml`), or a path to any scenario file (anything containing a `/`).
   */
  scenario: SippBuiltinScenario | (string & {});
  /** `-t`; default `u1`. */
  transport?: SippTransport;
  /** `-i`: the address sipp binds and writes into Via/Contact/SDP; default 127.0.0.1. */
  localIp?: string;
  /** `-p`; default a free port on localIp picked by the harness (sipp's own default is 5060…5119). */
  localPort?: number;
  /** `-s`: user part of the Request-URI (`[service]`). */
  service?: string;
  /** `-au` / `-ap`: credentials sipp's `[authentication]` keyword answers 401/407 challenges with. */
  authUser?: string;
  authPassword?: string;
  /** `-key name value` each: literal `[name]` substitutions in the scenario (a missing key is a fatal error). */
  keys?: Record<string, string | number>;
  /** `-set name value` each: global variables (the scenario must declare them with `<Global variables="…"/>`). */
  variables?: Record<string, string | number>;
  /** `-lost`: percentage of packets sipp drops on send and receive (UDP only makes sense). */
  lossPercent?: number;
  /** `-d`: duration in ms of each `<pause/>` that has no `milliseconds` of its own. */
  pauseMs?: number;
  /** `-recv_timeout` in ms: a call waiting longer than this for an expected message fails. */
  recvTimeoutMs?: number;
  /** `-timeout` (whole seconds, rounded up): sipp stops itself after this long. */
  sippTimeoutMs?: number;
  /** `-timeout_error`: reaching `-timeout` is a fatal error (exit 255) rather than a normal stop. */
  timeoutIsError?: boolean;
  /** `-max_retrans`: UDP retransmissions before a transaction times out (sipp: 5 INVITE, 7 others). */
  maxRetrans?: number;
  /** `-aa`: answer unexpected INFO, NOTIFY, OPTIONS and UPDATE with 200 automatically. */
  autoAnswer?: boolean;
  /** `-trace_msg`: keep every message sent and received (returned as `messageLog`); default true. */
  traceMessages?: boolean;
  /** Appended verbatim after the harness's own arguments. */
  extraArgs?: string[];
  /**
   * Hard limit on the process's life in ms. When it passes, sipp is terminated (SIGTERM, then SIGKILL)
   * and the run rejects with a `SippTimeoutError` carrying its logs. Default 30 s for a run and
   * 120 s for a server.
   */
  hardTimeoutMs?: number;
  /** Keep the work folder (stats, logs) instead of deleting it; also set by SIPP_KEEP_FILES=1. */
  keepFiles?: boolean;
}

export interface SippRunOptions extends SippCommonOptions {
  /** The peer, as `host:port` (`[v6]:port` for IPv6) or an object. */
  target: string | { host: string; port: number };
  /** `-m`: calls to place before sipp exits; default 1. */
  calls?: number;
  /** `-r`: calls per rate period (sipp's default is 10 per second). */
  rate?: number;
  /** `-rp` in ms: the rate period; default 1000. */
  ratePeriodMs?: number;
  /** `-l`: at most this many calls open at once. */
  maxConcurrent?: number;
}

export interface SippServerOptions extends SippCommonOptions {
  /** `-m`: sipp exits by itself once this many calls have been received and completed. */
  calls?: number;
}

/** One row of sipp's `-trace_stat` CSV: column name → raw cell text. */
export type SippStats = Readonly<Record<string, string>>;

export interface SippResult {
  /**
   * sipp's exit status: 0 every call succeeded; 1 at least one failed, and also a scenario sipp
   * could not load (bad XML, a `[key]` without its -key: 0 calls, the reason in stderr); 97 stopped
   * by an internal command, or by `-timeout` with no successful call; 99 normal exit without calls;
   * 255 a fatal error once running (sipp's -1, e.g. `-timeout_error`); 254 it could not bind its
   * port (sipp's -2). Null if a signal ended it.
   */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** `SuccessfulCall(C)` of the last statistics row. */
  successfulCalls: number;
  /** `FailedCall(C)` of the last statistics row. */
  failedCalls: number;
  /** Every non-zero `Failed…(C)` counter except FailedCall itself, e.g. `{ FailedUnexpectedMessage: 1 }`. */
  failures: Record<string, number>;
  /** The last statistics row, written when sipp exits (or the last periodic one if it was killed). */
  stats: SippStats;
  /** sipp's final screens (it prints them on stdout at exit when stdout is not a terminal). */
  stdout: string;
  stderr: string;
  /** `-trace_err`: unexpected messages and errors. */
  errorLog: string;
  /** `-trace_msg`: every message sent and received ('' when traceMessages is false). */
  messageLog: string;
  /** `-trace_logs`: output of the scenario's `<log>` actions. */
  actionLog: string;
  /** The full command line, for reproducing a run by hand. */
  command: string[];
  pid: number;
  durationMs: number;
}

export interface SippServer {
  /** The address a UAC should target: `localIp:port`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly transport: SippTransport;
  readonly pid: number;
  /**
   * Settles when sipp exits: by itself (after `calls`), after `stop()`, or rejected with a
   * `SippTimeoutError` when its hard timeout kills it.
   */
  readonly exited: Promise<SippResult>;
  /**
   * Ends the server and resolves with its result. Graceful (the default) sends SIGUSR1: sipp takes no
   * new calls, lets open ones finish (including `<timewait>`), and exits; if that takes longer than
   * `graceMs` (default 6000) it is terminated. `graceful: false` terminates at once (SIGTERM): calls
   * still open are counted neither successful nor failed.
   */
  stop(options?: { graceful?: boolean; graceMs?: number }): Promise<SippResult>;
}
