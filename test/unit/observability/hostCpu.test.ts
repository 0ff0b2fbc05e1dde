import { describe, expect, it } from 'vitest';
import { type CpuTimes, HostCpu } from '../../../src/observability/hostCpu.js';

/** A machine whose busy share for the next interval the test sets. */
function machine() {
  const times: CpuTimes = { busy: 0, total: 0 };
  return {
    read: () => ({ ...times }),
    run(busyShare: number) {
      times.busy += busyShare * 1000;
      times.total += 1000;
    },
  };
}

describe('HostCpu', () => {
  it('averages the machine over a few intervals: a burst refuses nothing, saturation does', () => {
    const host = machine();
    const cpu = new HostCpu({ maxUtilization: 0.9, read: host.read });
    cpu.start();
    cpu.stop();
    expect(cpu.utilization).toBe(0);
    host.run(0.2);
    cpu.sample();
    expect(cpu.utilization).toBeCloseTo(0.2);
    // One second at 100 %: a GC or a compile, not a reason to refuse calls.
    host.run(1);
    cpu.sample();
    expect(cpu.overloaded()).toBe(false);
    for (let second = 0; second < 6; second++) {
      host.run(1);
      cpu.sample();
    }
    expect(cpu.utilization).toBeGreaterThan(0.9);
    expect(cpu.overloaded()).toBe(true);
    expect(cpu.probe().check()).toMatch(/^machine CPU at 9\d%, above media\.maxCpuUtilization 90%$/);
    // Back to normal within a few seconds.
    for (let second = 0; second < 4; second++) {
      host.run(0.3);
      cpu.sample();
    }
    expect(cpu.overloaded()).toBe(false);
    expect(cpu.probe().check()).toBe(true);
  });

  it('never refuses at maxUtilization 1, and ignores a reading that did not move', () => {
    const host = machine();
    const cpu = new HostCpu({ maxUtilization: 1, read: host.read });
    cpu.start();
    cpu.stop();
    for (let second = 0; second < 10; second++) {
      host.run(1);
      cpu.sample();
    }
    expect(cpu.utilization).toBeCloseTo(1);
    expect(cpu.overloaded()).toBe(false);
    cpu.sample();
    expect(cpu.utilization).toBeCloseTo(1);
  });

  it('reads the real machine by default', () => {
    const cpu = new HostCpu({ maxUtilization: 0.9 });
    cpu.start();
    let spin = 0;
    const until = performance.now() + 50;
    while (performance.now() < until) spin++;
    cpu.sample();
    cpu.stop();
    expect(spin).toBeGreaterThan(0);
    expect(cpu.utilization).toBeGreaterThan(0);
    expect(cpu.utilization).toBeLessThanOrEqual(1);
  });
});
