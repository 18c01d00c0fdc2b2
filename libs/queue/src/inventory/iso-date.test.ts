import { describe, expect, it } from 'vitest';
import { isoMs } from './iso-date.js';

describe('isoMs', () => {
  it.each(['2030-05-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '1969-12-31T23:59:59.999Z', '2400-02-29T12:00:00.001Z', '0050-06-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'])(
    'reads %s as the epoch ms toISOString gives it back from',
    (iso) => {
      const ms = isoMs(iso);
      expect(ms).toBe(Date.parse(iso));
      expect(new Date(ms ?? Number.NaN).toISOString()).toBe(iso);
    },
  );

  it.each(['2030-01-01T00:00:00Z', '2030-02-30T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2030-01-01T24:00:00.000Z', '2030-01-01 00:00:00.000Z', '2030-01-01T00:00:60.000Z', '2030-13-01T00:00:00.000Z', '2030-01-01T00:00:00.000+00:00', 'soon'])(
    'refuses %s, which would not come back as the same text',
    (iso) => expect(isoMs(iso)).toBeUndefined(),
  );
});
