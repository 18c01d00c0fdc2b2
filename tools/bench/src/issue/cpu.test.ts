// The /proc readings behind the benches' CPU per certificate, on this process and a child of it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childrenCpuMillis, cpuMillis } from './cpu.js';

describe('childrenCpuMillis', () => {
  it("holds a waited-for child's CPU, which the parent's own does not", () => {
    const before = childrenCpuMillis(process.pid);
    // A child that spins until it has used 300 ms of CPU (not of wall time).
    spawnSync(process.execPath, ['-e', 'const s = process.cpuUsage(); while ((process.cpuUsage(s).user + process.cpuUsage(s).system) < 300000);']);
    const after = childrenCpuMillis(process.pid);
    expect(before).toBeDefined();
    expect((after ?? 0) - (before ?? 0)).toBeGreaterThanOrEqual(250);
    expect(cpuMillis(process.pid)).toBeDefined();
    expect(childrenCpuMillis(undefined)).toBeUndefined();
  });
});
