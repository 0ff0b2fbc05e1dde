/** Options of the embedded engine, from drachtio-server's command line (parseEngineArgs.ts). */

export type SipTransportName = 'udp' | 'tcp' | 'tls';

export type EngineLogLevel = 'notice' | 'error' | 'warning' | 'info' | 'debug';

/** One `--contact`: where the engine listens for SIP. */
export interface ContactSpec {
  /** As given on the command line. */
  uri: string;
  scheme: 'sip' | 'sips';
  /** IPv4/IPv6 literal (without brackets), hostname, or `*` / `0.0.0.0` for all interfaces. */
  host: string;
  port: number;
  transports: SipTransportName[];
  /** `--external-ip` given after this contact: the address advertised in Via/Contact and hostports. */
  externalIp?: string;
}

export interface EngineOptions {
  contacts: ContactSpec[];
  /** The admin listener drachtio-srf apps connect to. */
  admin: { address: string; port: number };
  secret: string;
  tls: { keyFile?: string; certFile?: string; chainFile?: string };
  logLevel: EngineLogLevel;
  /** `--stdout`: log to standard output (the engine has no other destination; kept for parity). */
  stdout: boolean;
  /** `--noconfig`: do not read a drachtio config file (the engine never does). */
  noConfig: boolean;
  /** `-f/--file`: accepted for a drop-in command line, not read. */
  configFile?: string;
  /**
   * `--prometheus-scrape-port [<address>:]<port>`: serve GET /metrics (and /health) there. drachtio-server's
   * option name; absent means no metrics listener.
   */
  prometheus?: { address: string; port: number };
  /** `-h/--help` or `-v/--version`: print and exit; no other option is validated then. */
  help: boolean;
  version: boolean;
  /** Things the user should know but that do not stop start-up. */
  warnings: string[];
}

/** Loopback unless told otherwise: apps on other hosts are a choice, not a default. */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1';
/** drachtio's well-known example secret: anyone may guess it, so it never guards a reachable port. */
export const WELL_KNOWN_SECRET = 'cymru';
export const DEFAULT_ADMIN_PORT = 9022;
export const DEFAULT_LOG_LEVEL: EngineLogLevel = 'info';
