// hop-floor-bench's arithmetic: a round's figures, the medians and ratios over rounds, and the
// commands per round trip from MONITOR lines.
import { describe, expect, it } from 'vitest';
import { commandsPerRoundTrip, loadSummary, roundFigures, type RoundInput } from './summary.js';

const input = (over: Partial<RoundInput> = {}): RoundInput => ({
  path: 'bullmq',
  load: 'lone',
  round: 1,
  items: 1,
  roundTrips: 1000,
  elapsedMs: 2000,
  latenciesUs: Array.from({ length: 100 }, (_, i) => i + 1),
  cpuMs: { producer: 100, consumer: 200, redis: 50 },
  ...over,
});

describe('roundFigures', () => {
  it('gives the percentiles, the rate and each process’s CPU per round trip and per item', () => {
    const r = roundFigures(input({ items: 8 }));
    expect(r.p50_us).toBe(50);
    expect(r.p99_us).toBe(99);
    expect(r.round_trips_per_s).toBe(500);
    expect(r.cpu_us_per_round_trip).toEqual({ producer: 100, consumer: 200, redis: 50, total: 350 });
    expect(r.cpu_us_per_item).toBe(43.8);
  });

  it('leaves out the sum when a process’s CPU was not read, and keeps the others', () => {
    const r = roundFigures(input({ cpuMs: { producer: 100, consumer: undefined, redis: 50 } }));
    expect(r.cpu_us_per_round_trip).toEqual({ producer: 100, redis: 50 });
    expect(r.cpu_us_per_item).toBeUndefined();
  });

  it('says nothing per round trip of a round with none', () => {
    const r = roundFigures(input({ roundTrips: 0, latenciesUs: [] }));
    expect(r.cpu_us_per_round_trip).toEqual({});
    expect(r.round_trips_per_s).toBe(0);
    expect(Number.isNaN(r.p50_us)).toBe(true);
  });
});

describe('loadSummary', () => {
  const rounds = [
    roundFigures(input({ round: 1, latenciesUs: [100], cpuMs: { producer: 100, consumer: 100, redis: 100 } })),
    roundFigures(input({ round: 2, latenciesUs: [120], cpuMs: { producer: 100, consumer: 100, redis: 100 } })),
    roundFigures(input({ round: 1, path: 'stream', latenciesUs: [60], cpuMs: { producer: 50, consumer: 50, redis: 50 } })),
    roundFigures(input({ round: 2, path: 'stream', latenciesUs: [130], cpuMs: { producer: 50, consumer: 50, redis: 50 } })),
    roundFigures(input({ round: 1, load: 'other', path: 'stream', latenciesUs: [1] })),
  ];

  it('takes each path’s medians of its own load’s rounds and the stream path’s over BullMQ’s', () => {
    const s = loadSummary('lone', rounds);
    expect(s.bullmq.rounds).toBe(2);
    expect(s.bullmq.p50_us).toBe(110);
    expect(s.stream.p50_us).toBe(95);
    expect(s.stream.cpu_us_per_round_trip.total).toBe(150);
    expect(s.stream_over_bullmq['p50_us']).toBe(0.86);
    expect(s.stream_over_bullmq['cpu_total']).toBe(0.5);
  });

  it('counts the rounds where the stream path was lower, paired by round', () => {
    const s = loadSummary('lone', rounds);
    expect(s.stream_lower_rounds).toEqual({ p50_us: '1/2', p99_us: '1/2', cpu_total: '2/2' });
  });
});

describe('commandsPerRoundTrip', () => {
  it('counts each sender’s commands per round trip, most first, leaving out other senders', () => {
    const seen = [
      { owner: 'producer', command: 'xadd' },
      { owner: 'consumer', command: 'evalsha' },
      { owner: 'producer', command: 'xadd' },
      { owner: 'consumer', command: 'xreadgroup' },
      { owner: 'other', command: 'info' },
    ];
    expect(commandsPerRoundTrip(seen, 2, ['producer', 'consumer'])).toEqual({
      total: 2,
      by_command: { 'producer xadd': 1, 'consumer evalsha': 0.5, 'consumer xreadgroup': 0.5 },
    });
  });
});
