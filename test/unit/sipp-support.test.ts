import { describe, expect, test } from 'vitest';
import {
  assertAllCallsSucceeded,
  formatSippResult,
  parseSippStatsCsv,
  SCENARIO_DIR,
  type SippResult,
  scenarioArgs,
  summarizeSippStats,
} from '../support/sipp.js';

// Captured from real runs of sipp 3.6.1 (-trace_stat -fd 1): the built-in uac placing 5 calls
// against the built-in uas, all successful (the header carries ResponseTimeRepartition and
// CallLengthRepartition columns because that scenario has rtd="true").
const UAC_5_CALLS_OK = `StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedCannotSendMessage(P);FailedCannotSendMessage(C);FailedMaxUDPRetrans(P);FailedMaxUDPRetrans(C);FailedTcpConnect(P);FailedTcpConnect(C);FailedTcpClosed(P);FailedTcpClosed(C);FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);FailedCallRejected(P);FailedCallRejected(C);FailedCmdNotSent(P);FailedCmdNotSent(C);FailedRegexpDoesntMatch(P);FailedRegexpDoesntMatch(C);FailedRegexpShouldntMatch(P);FailedRegexpShouldntMatch(C);FailedRegexpHdrNotFound(P);FailedRegexpHdrNotFound(C);FailedOutboundCongestion(P);FailedOutboundCongestion(C);FailedTimeoutOnRecv(P);FailedTimeoutOnRecv(C);FailedTimeoutOnSend(P);FailedTimeoutOnSend(C);FailedTestDoesntMatch(P);FailedTestDoesntMatch(C);FailedTestShouldntMatch(P);FailedTestShouldntMatch(C);FailedStrcmpDoesntMatch(P);FailedStrcmpDoesntMatch(C);FailedStrcmpShouldntMatch(P);FailedStrcmpShouldntMatch(C);OutOfCallMsgs(P);OutOfCallMsgs(C);DeadCallMsgs(P);DeadCallMsgs(C);Retransmissions(P);Retransmissions(C);AutoAnswered(P);AutoAnswered(C);Warnings(P);Warnings(C);FatalErrors(P);FatalErrors(C);WatchdogMajor(P);WatchdogMajor(C);WatchdogMinor(P);WatchdogMinor(C);ResponseTime1(P);ResponseTime1(C);ResponseTime1StDev(P);ResponseTime1StDev(C);CallLength(P);CallLength(C);CallLengthStDev(P);CallLengthStDev(C);ResponseTimeRepartition1;ResponseTimeRepartition1_<10;ResponseTimeRepartition1_<20;ResponseTimeRepartition1_<30;ResponseTimeRepartition1_<40;ResponseTimeRepartition1_<50;ResponseTimeRepartition1_<100;ResponseTimeRepartition1_<150;ResponseTimeRepartition1_<200;ResponseTimeRepartition1_>=200;CallLengthRepartition;CallLengthRepartition_<10;CallLengthRepartition_<50;CallLengthRepartition_<100;CallLengthRepartition_<500;CallLengthRepartition_<1000;CallLengthRepartition_<5000;CallLengthRepartition_<10000;CallLengthRepartition_>=10000;
2026-11-22\t00:40:44.606937\t1795308044.606937;2026-11-22\t00:40:44.606937\t1795308044.606937;2026-11-22\t00:40:44.607487\t1795308044.607487;00:00:00;00:00:00;50;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:000000;;0;0;0;0;0;0;0;0;0;;0;0;0;0;0;0;0;0;
2026-11-22\t00:40:44.606937\t1795308044.606937;2026-11-22\t00:40:44.607749\t1795308044.607749;2026-11-22\t00:40:44.720153\t1795308044.720153;00:00:00;00:00:00;50;44.6429;44.2478;0;0;5;5;5;0;5;5;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;00:00:00:000000;00:00:00:000000;00:00:00:001000;00:00:00:001000;00:00:00:007000;00:00:00:007000;00:00:00:001000;00:00:00:001000;;5;0;0;0;0;0;0;0;0;;5;0;0;0;0;0;0;0;
2026-11-22\t00:40:44.606937\t1795308044.606937;2026-11-22\t00:40:44.720242\t1795308044.720242;2026-11-22\t00:40:44.720324\t1795308044.720324;00:00:00;00:00:00;50;0;44.2478;0;0;0;5;5;0;0;5;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:001000;00:00:00:000000;00:00:00:007000;00:00:00:000000;00:00:00:001000;;5;0;0;0;0;0;0;0;0;;5;0;0;0;0;0;0;0;
`;

// uac-expect-final.xml with -key expected 603 against uas-final-486.xml: the one call failed on
// its strcmp check. No repartition columns (no rtd in the scenario).
const EXPECT_FINAL_MISMATCH = `StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedCannotSendMessage(P);FailedCannotSendMessage(C);FailedMaxUDPRetrans(P);FailedMaxUDPRetrans(C);FailedTcpConnect(P);FailedTcpConnect(C);FailedTcpClosed(P);FailedTcpClosed(C);FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);FailedCallRejected(P);FailedCallRejected(C);FailedCmdNotSent(P);FailedCmdNotSent(C);FailedRegexpDoesntMatch(P);FailedRegexpDoesntMatch(C);FailedRegexpShouldntMatch(P);FailedRegexpShouldntMatch(C);FailedRegexpHdrNotFound(P);FailedRegexpHdrNotFound(C);FailedOutboundCongestion(P);FailedOutboundCongestion(C);FailedTimeoutOnRecv(P);FailedTimeoutOnRecv(C);FailedTimeoutOnSend(P);FailedTimeoutOnSend(C);FailedTestDoesntMatch(P);FailedTestDoesntMatch(C);FailedTestShouldntMatch(P);FailedTestShouldntMatch(C);FailedStrcmpDoesntMatch(P);FailedStrcmpDoesntMatch(C);FailedStrcmpShouldntMatch(P);FailedStrcmpShouldntMatch(C);OutOfCallMsgs(P);OutOfCallMsgs(C);DeadCallMsgs(P);DeadCallMsgs(C);Retransmissions(P);Retransmissions(C);AutoAnswered(P);AutoAnswered(C);Warnings(P);Warnings(C);FatalErrors(P);FatalErrors(C);WatchdogMajor(P);WatchdogMajor(C);WatchdogMinor(P);WatchdogMinor(C);CallLength(P);CallLength(C);CallLengthStDev(P);CallLengthStDev(C);
2026-11-22\t00:55:28.401872\t1795308928.401872;2026-11-22\t00:55:28.401872\t1795308928.401872;2026-11-22\t00:55:28.409414\t1795308928.409414;00:00:00;00:00:00;10;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;00:00:00:000000;00:00:00:000000;00:00:00:000000;00:00:00:000000;
2026-11-22\t00:55:28.401872\t1795308928.401872;2026-11-22\t00:55:28.409669\t1795308928.409669;2026-11-22\t00:55:28.516880\t1795308928.516880;00:00:00;00:00:00;10;9.34579;8.69565;0;0;1;1;1;0;0;0;1;1;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;1;1;0;0;0;0;0;0;0;0;0;0;1;1;0;0;0;0;0;0;00:00:00:004000;00:00:00:004000;2562047788015:12:55:808000;2562047788015:12:55:808000;
2026-11-22\t00:55:28.401872\t1795308928.401872;2026-11-22\t00:55:28.516949\t1795308928.516949;2026-11-22\t00:55:28.517092\t1795308928.517092;00:00:00;00:00:00;10;0;8.69565;0;0;0;1;1;0;0;0;0;1;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;1;0;0;0;0;0;0;0;0;0;0;0;1;0;0;0;0;0;0;00:00:00:000000;00:00:00:004000;00:00:00:000000;2562047788015:12:55:808000;
`;

function result(overrides: Partial<SippResult>): SippResult {
  return {
    exitCode: 0,
    signal: null,
    successfulCalls: 0,
    failedCalls: 0,
    failures: {},
    stats: {},
    stdout: '',
    stderr: '',
    errorLog: '',
    messageLog: '',
    actionLog: '',
    command: ['sipp', '-sn', 'uac'],
    pid: 1,
    durationMs: 5,
    ...overrides,
  };
}

describe('parseSippStatsCsv', () => {
  test('reads one row per dump, keyed by the header, without the trailing delimiter', () => {
    const rows = parseSippStatsCsv(UAC_5_CALLS_OK);
    // A row at start, one per -fd period, one at exit.
    expect(rows).toHaveLength(3);
    const last = rows.at(-1) ?? {};
    expect(last['SuccessfulCall(C)']).toBe('5');
    expect(last['OutgoingCall(C)']).toBe('5');
    expect(last.CurrentCall).toBe('0');
    expect(last['CallLengthRepartition_>=10000']).toBe('0');
    // Time cells keep their tab-separated date, time and epoch.
    expect(last.StartTime).toMatch(/^2026-11-22\t00:40:44\.\d+\t\d+\.\d+$/);
    expect(Object.keys(last)).not.toContain('');
  });

  test('tolerates CRLF, blank lines and a file with only a header', () => {
    const crlf = `${EXPECT_FINAL_MISMATCH.replaceAll('\n', '\r\n')}\r\n\r\n`;
    expect(parseSippStatsCsv(crlf)).toEqual(parseSippStatsCsv(EXPECT_FINAL_MISMATCH));
    const header = EXPECT_FINAL_MISMATCH.split('\n')[0] ?? '';
    expect(parseSippStatsCsv(header)).toEqual([]);
    expect(parseSippStatsCsv('')).toEqual([]);
  });

  test('honours another delimiter (-stat_delimiter)', () => {
    expect(parseSippStatsCsv('A,B,\n1,2,\n', ',')).toEqual([{ A: '1', B: '2' }]);
  });
});

describe('summarizeSippStats', () => {
  test('counts the cumulative successful and failed calls of a good run', () => {
    const last = parseSippStatsCsv(UAC_5_CALLS_OK).at(-1) ?? {};
    expect(summarizeSippStats(last)).toEqual({ successfulCalls: 5, failedCalls: 0, failures: {} });
  });

  test('names each non-zero failure reason of a failed run', () => {
    const rows = parseSippStatsCsv(EXPECT_FINAL_MISMATCH);
    expect(summarizeSippStats(rows.at(-1) ?? {})).toEqual({
      successfulCalls: 0,
      failedCalls: 1,
      failures: { FailedStrcmpDoesntMatch: 1 },
    });
    // The first row is written at start-up, before any call.
    expect(summarizeSippStats(rows[0] ?? {})).toEqual({ successfulCalls: 0, failedCalls: 0, failures: {} });
  });

  test('reads a missing stats file (sipp died before its traffic loop) as no calls', () => {
    expect(summarizeSippStats({})).toEqual({ successfulCalls: 0, failedCalls: 0, failures: {} });
  });
});

describe('scenarioArgs', () => {
  test('uses -sn for built-in scenarios', () => {
    expect(scenarioArgs('uac')).toEqual(['-sn', 'uac']);
    expect(scenarioArgs('uac_pcap')).toEqual(['-sn', 'uac_pcap']);
  });

  test('finds bare names in test/scenarios, with or without .xml', () => {
    expect(scenarioArgs('uac-cancel')).toEqual(['-sf', `${SCENARIO_DIR}uac-cancel.xml`]);
    expect(scenarioArgs('uas-bye.xml')).toEqual(['-sf', `${SCENARIO_DIR}uas-bye.xml`]);
  });

  test('passes paths through and refuses files that do not exist', () => {
    const path = `${SCENARIO_DIR}uac-info.xml`;
    expect(scenarioArgs(path)).toEqual(['-sf', path]);
    expect(() => scenarioArgs('no-such-scenario')).toThrow(/no sipp scenario no-such-scenario/);
  });
});

describe('assertAllCallsSucceeded', () => {
  test('accepts exit 0 with no failed call, and checks the count when given', () => {
    const ok = result({ successfulCalls: 3 });
    expect(() => assertAllCallsSucceeded(ok)).not.toThrow();
    expect(() => assertAllCallsSucceeded(ok, 3)).not.toThrow();
    expect(() => assertAllCallsSucceeded(ok, 4)).toThrow(/expected 4 successful calls/);
  });

  test('rejects a failed run with its reasons and logs in the message', () => {
    const failed = result({
      exitCode: 1,
      failedCalls: 1,
      failures: { FailedUnexpectedMessage: 1 },
      errorLog: 'Aborting call on unexpected message',
    });
    expect(() => assertAllCallsSucceeded(failed)).toThrow(
      /exit 1 .*0 successful, 1 failed \(FailedUnexpectedMessage=1\)[\s\S]*--- error log ---\nAborting call/,
    );
  });
});

describe('formatSippResult', () => {
  test('shows the command, the outcome, and only the logs that have something', () => {
    const text = formatSippResult(result({ successfulCalls: 2, stderr: 'Resolving remote host' }));
    expect(text).toContain('sipp sipp -sn uac');
    expect(text).toContain('exit 0 after 5 ms: 2 successful, 0 failed');
    expect(text).toContain('--- stderr ---\nResolving remote host');
    expect(text).not.toContain('--- messages ---');
  });

  test('keeps the end of a long log, where the failure is', () => {
    const text = formatSippResult(result({ messageLog: `${'x'.repeat(10_000)}THE END` }));
    expect(text).toMatch(/--- messages ---\n…x+THE END$/);
    expect(text.length).toBeLessThan(4_500);
  });

  test('names the signal when sipp was killed', () => {
    expect(formatSippResult(result({ exitCode: null, signal: 'SIGKILL' }))).toContain('exit SIGKILL');
  });
});
