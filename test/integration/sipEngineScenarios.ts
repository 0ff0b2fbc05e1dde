/**
 * sipp XML scenarios the sip-engine conformance tests play (written to a temp dir per run).
 * Placeholders in [brackets] are sipp keywords.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SDP_OFFER = (direction: string): string => `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=${direction}`;

const UAC_INVITE = `<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP_OFFER('sendrecv')}
]]></send>`;

const inDialog = (method: string, cseq: number, body?: string, contentType = 'application/sdp'): string =>
  `<send retrans="500"><![CDATA[
${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
${body === undefined ? 'Content-Length: 0' : `Content-Type: ${contentType}\nContent-Length: [len]`}

${body ?? ''}
]]></send>`;

const ack = (cseq: number): string => `<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ACK
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]></send>`;

const reply = (status: string, extra = '', body?: string): string => `<send><![CDATA[
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
${extra}${body === undefined ? 'Content-Length: 0' : 'Content-Type: application/sdp\nContent-Length: [len]'}

${body ?? ''}
]]></send>`;

const scenario = (name: string, steps: string[]): string =>
  `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="${name}">\n${steps.join('\n')}\n</scenario>\n`;

const SCENARIOS: Record<string, string> = {
  /** UAC: call answered, then the far end (the srf app) hangs up. */
  'uac-remote-bye': scenario('uac-remote-bye', [
    UAC_INVITE,
    '<recv response="100" optional="true"/>',
    '<recv response="180" optional="true"/>',
    '<recv response="200" rrs="true"/>',
    ack(1),
    '<recv request="BYE"/>',
    reply('200 OK'),
  ]),
  /** UAC: CANCEL after 180; expects 200 to the CANCEL and 487 to the INVITE. */
  'uac-cancel': scenario('uac-cancel', [
    UAC_INVITE,
    '<recv response="100" optional="true"/>',
    '<recv response="180"/>',
    `<send><![CDATA[
CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>`,
    '<recv response="200"/>',
    '<recv response="487"/>',
    `<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>`,
  ]),
  /** UAC: hold (sendonly) and back by re-INVITE, INFO and OPTIONS in the dialog, then BYE. */
  'uac-reinvite-info': scenario('uac-reinvite-info', [
    UAC_INVITE,
    '<recv response="100" optional="true"/>',
    '<recv response="180" optional="true"/>',
    '<recv response="200" rrs="true"/>',
    ack(1),
    inDialog('INVITE', 2, SDP_OFFER('sendonly')),
    '<recv response="100" optional="true"/>',
    '<recv response="200"><action><ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="held"/></action></recv>',
    ack(2),
    inDialog('INVITE', 3, SDP_OFFER('sendrecv')),
    '<recv response="100" optional="true"/>',
    '<recv response="200"><action><ereg regexp="a=sendrecv" search_in="body" check_it="true" assign_to="resumed"/></action></recv>',
    ack(3),
    '<Reference variables="held,resumed"/>',
    inDialog('INFO', 4, 'Signal=5\nDuration=160', 'application/dtmf-relay'),
    '<recv response="200"/>',
    inDialog('BYE', 5),
    '<recv response="200"/>',
  ]),
  /** UAC: an OPTIONS outside any dialog, expecting 200. */
  'uac-options': scenario('uac-options', [
    `<send retrans="500"><![CDATA[
OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]></send>`,
    '<recv response="200"/>',
  ]),
  ...Object.fromEntries(
    [486, 603, 480].map((status) => [
      /** UAS: answers the INVITE with a final error status and expects the ACK. */
      `uas-reject-${status}`,
      scenario(`uas-reject-${status}`, [
        '<recv request="INVITE"/>',
        reply(`${status} Rejected`),
        '<recv request="ACK"/>',
      ]),
    ]),
  ),
  /** UAS: a call the app puts on hold and back, sends INFO in, then hangs up. */
  'uas-reinvite-info': scenario('uas-reinvite-info', [
    '<recv request="INVITE"/>',
    reply('180 Ringing'),
    reply('200 OK', '', SDP_OFFER('sendrecv')),
    '<recv request="ACK"/>',
    '<recv request="INVITE"><action><ereg regexp="a=sendonly" search_in="body" check_it="true" assign_to="held"/></action></recv>',
    reply('200 OK', '', SDP_OFFER('recvonly')),
    '<recv request="ACK"/>',
    '<recv request="INVITE"><action><ereg regexp="a=sendrecv" search_in="body" check_it="true" assign_to="resumed"/></action></recv>',
    reply('200 OK', '', SDP_OFFER('sendrecv')),
    '<recv request="ACK"/>',
    '<Reference variables="held,resumed"/>',
    '<recv request="INFO"/>',
    reply('200 OK'),
    '<recv request="BYE"/>',
    reply('200 OK'),
  ]),
};

export const DIGEST = { realm: 'sipp.test', nonce: 'n0nce4engine', username: 'alice', password: 'secret' };

/**
 * UAS: 407 challenge first, then a 200 only when Proxy-Authorization carries `expectedResponse`
 * (sipp's own verifyauth only reads Authorization, so the digest is computed by the test).
 */
export function digestScenario(expectedResponse: string): string {
  return scenario('uas-digest', [
    '<recv request="INVITE"/>',
    reply(
      '407 Proxy Authentication Required',
      `Proxy-Authenticate: Digest realm="${DIGEST.realm}", nonce="${DIGEST.nonce}", algorithm=MD5\n`,
    ),
    '<recv request="ACK"/>',
    `<recv request="INVITE"><action><ereg regexp="response=.${expectedResponse}." search_in="hdr" header="Proxy-Authorization:" assign_to="authvalid"/></action></recv>`,
    '<nop test="authvalid" next="good"/>',
    reply('403 Forbidden'),
    '<recv request="ACK" next="done"/>',
    '<label id="good"/>',
    reply('200 OK', '', SDP_OFFER('sendrecv')),
    '<recv request="ACK"/>',
    '<recv request="BYE"/>',
    reply('200 OK'),
    '<label id="done"/>',
  ]);
}

/** Writes one scenario to a temp file; returns its path. */
export function writeScenario(name: string, xml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sip-engine-sipp-')), `${name}.xml`);
  writeFileSync(file, xml);
  return file;
}

/**
 * UAS: answers the call, leaves the app's re-INVITE pending (100 only), and expects the engine to
 * CANCEL it (200 + 487) before the BYE. The re-INVITE is the engine's second request in the
 * dialog, so its CSeq is 2.
 */
export const UAS_REINVITE_CANCELED_BY_BYE = scenario('uas-reinvite-bye', [
  '<recv request="INVITE"/>',
  reply('200 OK', '', SDP_OFFER('sendrecv')),
  '<recv request="ACK"/>',
  '<recv request="INVITE"/>',
  reply('100 Trying'),
  '<recv request="CANCEL"/>',
  reply('200 OK'),
  `<send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 2 INVITE
Content-Length: 0

]]></send>`,
  '<recv request="ACK" optional="true"/>',
  '<recv request="BYE"/>',
  reply('200 OK'),
]);

/** Writes every scenario to a fresh temp dir; returns name → file path. */
export function writeScenarios(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'sip-engine-sipp-'));
  const out: Record<string, string> = {};
  for (const [name, xml] of Object.entries(SCENARIOS)) {
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, xml);
    out[name] = file;
  }
  return out;
}
