import type { Logger } from 'pino';
import { parseSipInfoDtmf } from '../media/dtmf/sipInfoDtmf.js';
import type { MediaSession } from '../media/workers/MediaSession.js';
import type { SipDialog } from '../signalling/srfTypes.js';

const DTMF_TYPES = /^application\/dtmf(-relay)?\s*(;|$)/i;

/**
 * Answers the INFO requests of an answered call's dialog. A DTMF digit (`application/dtmf-relay`
 * "Signal=5\r\nDuration=160", or `application/dtmf` "5") gets 200 and goes to the media session,
 * which reports it (a `dtmf` event, source sip_info) and sends it to the room as SIP DTMF. An INFO
 * without a body (a keep-alive) gets 200; an unreadable DTMF body 400; any other body 415.
 */
export function relaySipInfoDtmf(dialog: SipDialog, session: MediaSession, logger: Logger): void {
  dialog.on('info', (req, res) => {
    if (!req.body) {
      res.send(200);
      return;
    }
    const contentType = req.get('Content-Type') ?? '';
    const dtmf = parseSipInfoDtmf(contentType, req.body);
    if (!dtmf) {
      if (DTMF_TYPES.test(contentType.trim())) res.send(400);
      else res.send(415, undefined, { headers: { Accept: 'application/dtmf-relay, application/dtmf' } });
      return;
    }
    res.send(200);
    session
      .injectDtmf(dtmf.digit, dtmf.durationMs ?? null)
      .catch((error: unknown) => logger.warn({ err: error, digit: dtmf.digit }, 'INFO digit not relayed'));
  });
}
