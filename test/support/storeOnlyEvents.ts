import type { CallEventSink } from '../../src/calls/callServiceTypes.js';
import { type SqlStatement, type SqlStore, statement } from '../../src/store/sql/sqlTypes.js';

/**
 * A call event sink for tests of the call layer that do not look at the outbox: each event is
 * told to `seen` and left out of the batch; the rest of each batch (the calls' own rows) is
 * committed to `db` as the real outbox would.
 */
export function storeOnlyEvents(
  db: SqlStore,
  seen: (event: { event: string; callId: string; data: Record<string, unknown> }) => void = () => undefined,
): CallEventSink {
  const events = new WeakSet<SqlStatement>();
  return {
    append(event) {
      seen(event);
      const placeholder = statement('SELECT 1');
      events.add(placeholder);
      return placeholder;
    },
    commit(statements) {
      void db.write(statements.filter((s) => !events.has(s)));
    },
  };
}
