import { type DtlsRole, DtlsSetupError, type SetupAttribute } from './dtlsTypes.js';

const SETUPS: readonly SetupAttribute[] = ['actpass', 'active', 'passive', 'holdconn'];

export function parseSetup(value: string): SetupAttribute | null {
  const lower = value.trim().toLowerCase();
  return SETUPS.find((setup) => setup === lower) ?? null;
}

/**
 * Our a=setup answering the peer's (RFC 5763 §5): to actpass we answer active, as the RFC
 * recommends, so our ClientHello goes out as soon as ICE has a path and the peer (WhatsApp
 * waits for us) need not speak first.
 */
export function answerSetup(offered: SetupAttribute): 'active' | 'passive' {
  switch (offered) {
    case 'actpass':
    case 'passive':
      return 'active';
    case 'active':
      return 'passive';
    case 'holdconn':
      throw new DtlsSetupError('a=setup:holdconn: the peer does not want a DTLS association');
  }
}

/** The active end is the DTLS client (RFC 5763 §5). */
export function dtlsRoleFor(ourSetup: 'active' | 'passive'): DtlsRole {
  return ourSetup === 'active' ? 'client' : 'server';
}

/** We offered actpass; the answer's a=setup picks our role. */
export function roleFromAnswer(theirAnswer: SetupAttribute): DtlsRole {
  if (theirAnswer === 'active') return 'server';
  if (theirAnswer === 'passive') return 'client';
  throw new DtlsSetupError(`the answer's a=setup:${theirAnswer} does not pick a DTLS role`);
}
