import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CallService } from '../../../src/calls/callService.js';
import { CallStore } from '../../../src/calls/callStore.js';
import { ClusterCalls } from '../../../src/calls/cluster/clusterCalls.js';
import type { ClusterNode } from '../../../src/cluster/clusterNode.js';
import { Database } from '../../../src/store/database.js';
import { storeOnlyEvents } from '../../support/storeOnlyEvents.js';

const logger = pino({ level: 'silent' });
const APP = `app_${'C'.repeat(27)}`;

describe('ClusterCalls', () => {
  it('lets go of the calls a survivor ended while this node was cut off: no second end, what they held closed', () => {
    const db = new Database({ path: ':memory:', synchronous: 'full', logger });
    const events: string[] = [];
    const calls = new CallService({
      store: new CallStore(db),
      events: storeOnlyEvents(db, (event) => events.push(event.event)),
      logger,
      now: () => new Date(),
    });
    const input = {
      appId: APP,
      direction: 'inbound' as const,
      fromAddress: '+15550100',
      toAddress: '+15550199',
      fromChannel: 'pstn' as const,
      toChannel: 'webrtc' as const,
    };
    const ringing = calls.create(input);
    calls.transition(ringing.id, { to: 'ringing' });
    const answered = calls.create(input);
    calls.transition(answered.id, { to: 'in_progress' });
    const closed: string[] = [];
    const cluster = new ClusterCalls({
      // Letting go touches nothing in Redis: the survivor released the slots and ownership.
      node: {} as ClusterNode,
      calls,
      closeLocally: (callId) => closed.push(callId),
      partsOf: () => Promise.reject(new Error('not used')),
      leaseMs: 1000,
      logger,
    });
    const before = events.length;
    cluster.relinquishAll();
    expect(closed.sort()).toEqual([ringing.id, answered.id].sort());
    expect(calls.liveIds()).toEqual([]);
    expect(calls.liveCount(APP)).toBe(0);
    expect(events.length).toBe(before);
    // A late end from this node (its media closing) changes nothing and says nothing.
    expect(calls.transition(answered.id, { to: 'completed', endReason: 'caller_hangup' }).ok).toBe(false);
    expect(events.length).toBe(before);
    db.closeNow();
  });
});
