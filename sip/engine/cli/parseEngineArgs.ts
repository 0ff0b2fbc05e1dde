import { parseArgs } from 'node:util';
import { EngineArgsError } from './engineArgsError.js';
import {
  type ContactSpec,
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_ADMIN_PORT,
  DEFAULT_LOG_LEVEL,
  type EngineLogLevel,
  type EngineOptions,
  WELL_KNOWN_SECRET,
} from './engineOptionsTypes.js';
import { parseContact, parsePort } from './parseContact.js';

const LOG_LEVELS: ReadonlySet<string> = new Set(['notice', 'error', 'warning', 'info', 'debug']);

/**
 * The subset of drachtio-server's options the embedded engine implements, spelled as drachtio-server
 * spells them, so the same command line starts either server. Anything else is an error rather than
 * silently ignored: an option we do not implement would otherwise change nothing without telling.
 */
const OPTIONS = {
  contact: { type: 'string', short: 'c', multiple: true },
  'external-ip': { type: 'string', short: 'x', multiple: true },
  port: { type: 'string', short: 'p' },
  address: { type: 'string' },
  secret: { type: 'string' },
  'key-file': { type: 'string' },
  'cert-file': { type: 'string' },
  'chain-file': { type: 'string' },
  loglevel: { type: 'string', short: 'l' },
  noconfig: { type: 'boolean' },
  stdout: { type: 'boolean' },
  file: { type: 'string', short: 'f' },
  'prometheus-scrape-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export function parseEngineArgs(argv: readonly string[]): EngineOptions {
  const { values, tokens } = parseStrict(argv);
  const warnings: string[] = [];

  const options: EngineOptions = {
    contacts: [],
    admin: {
      address: values.address ?? DEFAULT_ADMIN_ADDRESS,
      port: values.port === undefined ? DEFAULT_ADMIN_PORT : parsePort(values.port, '--port'),
    },
    secret: values.secret ?? '',
    tls: {},
    logLevel: parseLogLevel(values.loglevel),
    stdout: values.stdout ?? false,
    noConfig: values.noconfig ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
    warnings,
  };
  if (values['key-file'] !== undefined) options.tls.keyFile = values['key-file'];
  if (values['cert-file'] !== undefined) options.tls.certFile = values['cert-file'];
  if (values['chain-file'] !== undefined) options.tls.chainFile = values['chain-file'];
  if (values.file !== undefined) options.configFile = values.file;
  if (values['prometheus-scrape-port'] !== undefined) {
    options.prometheus = parseScrapePort(values['prometheus-scrape-port']);
  }
  if (options.help || options.version) return options;

  options.contacts = contactsInOrder(tokens);
  validate(options);

  // drachtio-server reads its XML config unless --noconfig; the engine reads none. Say so when a file
  // is named without --noconfig, since settings in it would otherwise be silently lost.
  if (options.configFile !== undefined && !options.noConfig) {
    warnings.push(
      `--file ${options.configFile} is not read by the embedded engine; pass its settings as options (and --noconfig)`,
    );
  }
  return options;
}

function parseStrict(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (err) {
    // node's messages name the offending option ("Unknown option '--foo'"); keep them.
    throw new EngineArgsError(`${(err as Error).message} (see --help)`);
  }
}

/** `--external-ip` binds to the `--contact` before it, as in drachtio-server. */
function contactsInOrder(
  tokens: readonly { kind: string; name?: string; value?: string | undefined }[],
): ContactSpec[] {
  const contacts: ContactSpec[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || token.value === undefined) continue;
    if (token.name === 'contact') {
      contacts.push(parseContact(token.value));
    } else if (token.name === 'external-ip') {
      const last = contacts.at(-1);
      if (last === undefined)
        throw new EngineArgsError('--external-ip must follow the --contact it applies to');
      if (last.externalIp !== undefined) {
        throw new EngineArgsError(`--contact ${last.uri} has more than one --external-ip`);
      }
      last.externalIp = token.value;
    }
  }
  return contacts;
}

/** `9090` (all interfaces, as drachtio-server) or `127.0.0.1:9090`. */
function parseScrapePort(value: string): { address: string; port: number } {
  const colon = value.lastIndexOf(':');
  if (colon === -1) return { address: '0.0.0.0', port: parsePort(value, '--prometheus-scrape-port') };
  const address = value.slice(0, colon).replace(/^\[|\]$/g, '');
  if (address === '') throw new EngineArgsError(`--prometheus-scrape-port '${value}': empty address`);
  return { address, port: parsePort(value.slice(colon + 1), '--prometheus-scrape-port') };
}

function parseLogLevel(value: string | undefined): EngineLogLevel {
  if (value === undefined) return DEFAULT_LOG_LEVEL;
  if (!LOG_LEVELS.has(value)) {
    throw new EngineArgsError(`--loglevel '${value}': valid choices are notice, error, warning, info, debug`);
  }
  return value as EngineLogLevel;
}

function validate(options: EngineOptions): void {
  if (options.contacts.length === 0) {
    throw new EngineArgsError(
      'at least one --contact is required (e.g. sip:127.0.0.1:5060;transport=udp,tcp)',
    );
  }
  if (options.secret === '') throw new EngineArgsError('--secret is required: apps authenticate with it');
  if (options.secret.includes('|'))
    throw new EngineArgsError('--secret must not contain "|" (wire separator)');
  if (options.secret === WELL_KNOWN_SECRET && !isLoopback(options.admin.address)) {
    throw new EngineArgsError(
      `--secret ${WELL_KNOWN_SECRET} is drachtio's well-known example: refusing it on --address ${options.admin.address}; choose a secret of your own (or bind the admin port to 127.0.0.1)`,
    );
  }
  const needsTls = options.contacts.some((c) => c.transports.includes('tls'));
  if (needsTls && (options.tls.keyFile === undefined || options.tls.certFile === undefined)) {
    throw new EngineArgsError('a tls --contact needs --key-file and --cert-file');
  }
}

/** 127.0.0.0/8, ::1 or localhost: reachable from this host only. */
function isLoopback(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
