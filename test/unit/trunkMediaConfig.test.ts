import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/configError.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { TrunkMediaPolicies } from '../../src/signalling/trunkMedia.js';

/** sip.trunks[].media: each trunk's media encryption, and the policy the media session gets from it. */
const dir = mkdtempSync(join(tmpdir(), 'trunk-media-config-'));
let files = 0;

function withTrunk(media: unknown) {
  const path = join(dir, `config-${++files}.json`);
  const trunk = {
    name: 'carrier',
    kind: 'pstn',
    sourceAddresses: ['203.0.113.7'],
    ...(media ? { media } : {}),
  };
  writeFileSync(path, JSON.stringify({ sip: { trunks: [trunk] } }));
  return loadConfig({ file: path, env: {} });
}

describe('sip.trunks[].media', () => {
  it('is plain RTP unless a trunk says otherwise', () => {
    const config = withTrunk(undefined);
    expect(config.sip.trunks[0]?.media).toEqual({ encryption: 'none', policy: 'required' });
    expect(new TrunkMediaPolicies(config.sip.trunks).encryptionOf('carrier')).toEqual({
      method: 'none',
      required: false,
    });
  });

  it('carries sdes required or optional to the media session', () => {
    const required = withTrunk({ encryption: 'sdes' });
    expect(new TrunkMediaPolicies(required.sip.trunks).encryptionOf('carrier')).toEqual({
      method: 'sdes',
      required: true,
    });
    const optional = withTrunk({ encryption: 'sdes', policy: 'optional' });
    expect(new TrunkMediaPolicies(optional.sip.trunks).encryptionOf('carrier')).toEqual({
      method: 'sdes',
      required: false,
    });
    // A call from no known trunk is plain RTP.
    expect(new TrunkMediaPolicies(optional.sip.trunks).encryptionOf('elsewhere').method).toBe('none');
  });

  it('carries dtls and sdes_or_dtls to the media session', () => {
    for (const encryption of ['dtls', 'sdes_or_dtls'] as const) {
      const config = withTrunk({ encryption });
      expect(new TrunkMediaPolicies(config.sip.trunks).encryptionOf('carrier')).toEqual({
        method: encryption,
        required: true,
      });
    }
  });

  it.each([
    [{ encryption: 'zrtp' }, /sip\.trunks\.0\.media\.encryption/],
    [{ encryption: 'sdes', policy: 'sometimes' }, /sip\.trunks\.0\.media\.policy/],
    [{ encryption: 'sdes', keys: 'x' }, /sip\.trunks\.0\.media/],
  ])('stops on %j, naming the key', (media, message) => {
    let error: unknown;
    try {
      withTrunk(media);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
