// Canonical ISO dates (what Date#toISOString writes) to epoch ms, for the record codecs: a
// date is stored as a number only when the number gives back exactly the stored text.
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number the digits at text[from, from + count) spell, or -1. */
function digits(text: string, from: number, count: number): number {
  let out = 0;
  for (let i = from; i < from + count; i += 1) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    out = out * 10 + d;
  }
  return out;
}

/**
 * A canonical ISO date's epoch ms (what toISOString writes: YYYY-MM-DDTHH:mm:ss.sssZ), or
 * undefined when the text would not come back from it. Read by hand: Date.parse and a
 * toISOString to compare cost more than the rest of a record's encoding together.
 */
export function isoMs(iso: string): number | undefined {
  if (iso.length === 24 && iso.charCodeAt(4) === 45 && iso.charCodeAt(7) === 45 && iso.charCodeAt(10) === 84 && iso.charCodeAt(13) === 58 && iso.charCodeAt(16) === 58 && iso.charCodeAt(19) === 46 && iso.charCodeAt(23) === 90) {
    const y = digits(iso, 0, 4);
    const mo = digits(iso, 5, 2);
    const d = digits(iso, 8, 2);
    const h = digits(iso, 11, 2);
    const mi = digits(iso, 14, 2);
    const sec = digits(iso, 17, 2);
    const ms = digits(iso, 20, 3);
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    const days = mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] ?? 0);
    // Date.UTC reads years 0-99 as 1900-1999: those take the slow path below.
    if (y >= 100 && mo >= 1 && d >= 1 && d <= days && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60 && ms >= 0) return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  }
  const ms = Date.parse(iso);
  return Number.isSafeInteger(ms) && new Date(ms).toISOString() === iso ? ms : undefined;
}

/** A canonical ISO time's epoch ms (toISOString's form, four-digit year: what the schemas' datetime accepts), else undefined. */
export function canonicalIsoMs(value: unknown): number | undefined {
  return typeof value === 'string' && value.length === 24 ? isoMs(value) : undefined;
}

/** A canonical ISO time (toISOString's form, four-digit year): what the schemas' datetime accepts. */
export function isCanonicalIsoTime(value: unknown): value is string {
  return canonicalIsoMs(value) !== undefined;
}
