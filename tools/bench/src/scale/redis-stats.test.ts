import { describe, expect, it } from 'vitest';
import { parseCommandStats } from './redis-stats.js';

describe('parseCommandStats', () => {
  it('reads the call count of every command, subcommands included', () => {
    const info = '# Commandstats\r\ncmdstat_hget:calls=12,usec=30,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\ncmdstat_client|setname:calls=3,usec=1\r\n';
    expect(parseCommandStats(info)).toEqual({ hget: 12, 'client|setname': 3 });
  });
});
