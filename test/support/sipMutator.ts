/**
 * Mutated SIP messages for fuzzing the embedded SIP server: valid messages of every kind it meets
 * (INVITE with SDP, re-INVITE, BYE, CANCEL, REGISTER, OPTIONS, responses), each bent by one to three
 * mutations. Seeded, so a failing run is replayed by its seed.
 */

/** mulberry32: small, fast and good enough to pick mutations; the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzTarget {
  /** The SIP server's address and port, as the Request-URI and To host. */
  host: string;
  port: number;
  /** A number an app takes, so mutated INVITEs that still parse reach the gateway's pipeline. */
  number: string;
  transport: 'UDP' | 'TCP';
  /** The sender's own port, for Via and Contact. */
  localPort: number;
}

const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 7000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n');

/** The valid messages mutations start from; `n` keeps Call-IDs and branches apart. */
export function seedMessages(t: FuzzTarget, n: number): string[] {
  const uri = `sip:${t.number}@${t.host}:${t.port}`;
  const via = `Via: SIP/2.0/${t.transport} 127.0.0.1:${t.localPort};branch=z9hG4bKfz${n};rport`;
  const from = `From: "Fuzz" <sip:+15550100@127.0.0.1:${t.localPort}>;tag=f${n}`;
  const to = `To: <${uri}>`;
  const callId = `Call-ID: fuzz-${n}@127.0.0.1`;
  const contact = `Contact: <sip:fuzz@127.0.0.1:${t.localPort};transport=${t.transport.toLowerCase()}>`;
  const request = (method: string, cseq: number, lines: string[], body = '') =>
    [
      `${method} ${uri} SIP/2.0`,
      via,
      'Max-Forwards: 70',
      from,
      ...lines,
      callId,
      `CSeq: ${cseq} ${method === 'ACK' ? 'INVITE' : method}`,
      contact,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  const response = (status: string, method: string) =>
    [
      `SIP/2.0 ${status}`,
      via,
      from,
      `${to};tag=t${n}`,
      callId,
      `CSeq: 1 ${method}`,
      contact,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  return [
    request('INVITE', 1, [to, 'Subject: fuzz', 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS'], SDP),
    request('INVITE', 2, [`${to};tag=t${n}`], SDP),
    request('BYE', 3, [`${to};tag=t${n}`]),
    request('CANCEL', 1, [to]),
    request('REGISTER', 1, [to, 'Expires: 3600']),
    request('OPTIONS', 1, [to, 'Accept: application/sdp']),
    request('INFO', 4, [`${to};tag=t${n}`, 'Content-Type: application/dtmf-relay'], 'Signal=5\r\n'),
    response('200 OK', 'INVITE'),
    response('180 Ringing', 'INVITE'),
    response('487 Request Terminated', 'INVITE'),
  ];
}

type Mutation = (message: Buffer, random: () => number) => Buffer;

const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;
const at = (message: Buffer, random: () => number) => Math.floor(random() * (message.length + 1));

function headerLines(message: Buffer): { head: string[]; body: Buffer } {
  const end = message.indexOf('\r\n\r\n');
  const headEnd = end < 0 ? message.length : end;
  return {
    head: message.subarray(0, headEnd).toString('latin1').split('\r\n'),
    body: end < 0 ? Buffer.alloc(0) : message.subarray(end + 4),
  };
}

function withHead(head: string[], body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

function insert(message: Buffer, position: number, bytes: Buffer): Buffer {
  return Buffer.concat([message.subarray(0, position), bytes, message.subarray(position)]);
}

const MUTATIONS: Record<string, Mutation> = {
  flipBytes(message, random) {
    const out = Buffer.from(message);
    const flips = 1 + Math.floor(random() * 8);
    for (let i = 0; i < flips && out.length > 0; i++) {
      const index = Math.floor(random() * out.length);
      out[index] = (out[index] ?? 0) ^ (1 << Math.floor(random() * 8));
    }
    return out;
  },
  truncate: (message, random) => message.subarray(0, at(message, random)),
  duplicateHeader(message, random) {
    const { head, body } = headerLines(message);
    const index = 1 + Math.floor(random() * Math.max(1, head.length - 1));
    const times = 1 + Math.floor(random() * 3);
    head.splice(index, 0, ...Array<string>(times).fill(head[index] ?? 'Via: x'));
    return withHead(head, body);
  },
  deleteHeader(message, random) {
    const { head, body } = headerLines(message);
    if (head.length > 1) head.splice(1 + Math.floor(random() * (head.length - 1)), 1);
    return withHead(head, body);
  },
  hugeValue(message, random) {
    const { head, body } = headerLines(message);
    const index = Math.floor(random() * head.length);
    const size = pick([300, 4_000, 20_000, 60_000], random);
    head[index] = `${head[index] ?? ''}${pick(['a', ';x=', '<', '"', ','], random).repeat(size)}`;
    return withHead(head, body);
  },
  badContentLength(message, random) {
    const { head, body } = headerLines(message);
    const value = pick(
      ['-1', '99999999', 'abc', '', '3', '0x10', '1e3', ' 12 13', '18446744073709551616'],
      random,
    );
    const index = head.findIndex((line) => /^content-length:/i.test(line));
    if (index >= 0) head[index] = `Content-Length: ${value}`;
    else head.push(`Content-Length: ${value}`);
    return withHead(head, body);
  },
  randomCrlf: (message, random) =>
    insert(message, at(message, random), Buffer.from(pick(['\r\n', '\r', '\n', '\r\n\r\n'], random))),
  utf8Bytes: (message, random) =>
    insert(
      message,
      at(message, random),
      Buffer.from(pick(['é', '日本', '\u{1F600}', '\uFFFD', 'Ω'], random)),
    ),
  rawOctets: (message, random) =>
    insert(
      message,
      at(message, random),
      Buffer.from(pick([[0xe9], [0xff, 0xfe], [0xc3], [0x80, 0x80]], random)),
    ),
  nulBytes: (message, random) => insert(message, at(message, random), Buffer.from([0])),
  swapStartLine(message, random) {
    const { head, body } = headerLines(message);
    head[0] = pick(
      [
        'INVITE sip:x SIP/3.0',
        'SIP/2.0 999 Weird',
        'FOO bar SIP/2.0',
        'SIP/2.0 2000 OK',
        '',
        'INVITE  SIP/2.0',
      ],
      random,
    );
    return withHead(head, body);
  },
};
const NAMES = Object.keys(MUTATIONS);

/** One to three mutations of a random seed message; returns the bytes and what was done. */
export function mutatedMessage(
  target: FuzzTarget,
  n: number,
  random: () => number,
): { bytes: Buffer; mutations: string[] } {
  let bytes: Buffer = Buffer.from(pick(seedMessages(target, n), random), 'latin1');
  const mutations: string[] = [];
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const name = pick(NAMES, random);
    mutations.push(name);
    bytes = (MUTATIONS[name] as Mutation)(bytes, random);
  }
  return { bytes, mutations };
}
