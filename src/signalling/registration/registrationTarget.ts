import { parseHostPort } from '../../config/hostPort.js';
import type { TrunkConfig } from '../../config/sipSchema.js';
import type { RegistrationTarget } from './registrationTypes.js';

/** `[2001:db8::1]` for IPv6 literals, the host as is otherwise. */
function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function hostPort(host: string, port: number | undefined): string {
  return port === undefined ? uriHost(host) : `${uriHost(host)}:${port}`;
}

/**
 * The REGISTER of a trunk with `registration` settings (undefined for any other trunk). It goes
 * over the trunk's outbound transport to `registrar` (default: the outbound host and port). The
 * Request-URI names the domain (`realm`, default the registrar's host) with no user part; From and
 * To carry the address of record `sip:<username>@<domain>`. When a realm is named, the REGISTER
 * is addressed to it and routed to the registrar.
 *
 * Contact is `<sip:<contactUser>@localhost…>`: drachtio-server (and the embedded SIP server)
 * replace `@localhost` with their own address and port on the transport the request leaves by,
 * external IP included, which is the address the carrier must send calls to. The gateway's
 * `sip.contacts` cannot say that as well: it names listen addresses (0.0.0.0, several transports).
 */
export function registrationTargetOf(trunk: TrunkConfig): RegistrationTarget | undefined {
  const registration = trunk.registration;
  const outbound = trunk.outbound;
  if (!registration || !outbound) return undefined;
  const transport = outbound.transport;
  const registrar = (registration.registrar !== undefined
    ? parseHostPort(registration.registrar)
    : undefined) ?? {
    host: outbound.host,
    port: outbound.port,
  };
  const registrarUri = `sip:${hostPort(registrar.host, registrar.port)};transport=${transport}`;
  const domain = registration.realm ?? registrar.host;
  const contactUser = registration.contactUser ?? registration.username;
  return {
    trunk: trunk.name,
    ...(registration.realm === undefined
      ? { uri: registrarUri }
      : { uri: `sip:${uriHost(registration.realm)};transport=${transport}`, proxy: registrarUri }),
    aor: `sip:${registration.username}@${uriHost(domain)}`,
    contact: `<sip:${contactUser}@localhost${transport === 'udp' ? '' : `;transport=${transport}`}>`,
    expiresSeconds: registration.expiresSeconds,
    credentials: { username: registration.username, password: registration.password },
  };
}
