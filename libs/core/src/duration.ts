// Go's time.ParseDuration / time.Duration.String(), so operators can reuse FSM's values
// ("24h", "1h30m", "87600h") verbatim. Arithmetic is done in BigInt nanoseconds, as Go does in
// int64, because 87600h in ns is beyond Number's exact integer range.
import { CoreError } from './errors.js';

const NS_PER_MS = 1_000_000n;
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * The syntax parseDuration reads, as one regular expression (for schemas and API documents that
 * must say what is accepted): an optional "+", then "0" or components like "1.5h". Longer unit
 * names first so "ms" is not read as "m" followed by garbage. A match can still be refused for
 * its size ("too large"), never for its form.
 */
export const GO_DURATION_PATTERN = new RegExp(
  `^\\+?(?:0|(?:(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:${Object.keys(UNIT_NS)
    .sort((a, b) => b.length - a.length)
    .join('|')}))+)$`,
  'u',
);
const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]+)/u;

function invalid(input: string, why: string): CoreError {
  return new CoreError(
    'INVALID_DURATION',
    `invalid duration ${JSON.stringify(input)}: ${why}; use Go duration syntax such as "24h", "1h30m", "1.5h", "90s"`,
  );
}

/** Parses a Go duration into nanoseconds, exactly. */
function parseNanoseconds(input: string): bigint {
  if (typeof input !== 'string' || input.trim() === '') throw invalid(String(input), 'it is empty');
  let rest = input;
  if (rest.startsWith('-')) throw invalid(input, 'it is negative');
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return 0n;
  if (rest === '') throw invalid(input, 'it has no value');
  let totalNs = 0n;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (match === null) throw invalid(input, `cannot read "${rest}"`);
    const [whole, intDigits = '', fracDigits, unitName = ''] = match;
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) {
      throw invalid(input, `a number is missing before "${unitName}"`);
    }
    const unit = UNIT_NS[unitName];
    if (unit === undefined) throw invalid(input, `unknown unit "${unitName}" (allowed: ns, us, ms, s, m, h)`);
    let componentNs = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (fracDigits !== undefined && fracDigits !== '') {
      componentNs += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    totalNs += componentNs;
    if (totalNs > MAX_INT64) throw invalid(input, 'it is too large');
    rest = rest.slice(whole.length);
  }
  return totalNs;
}

/** Parses a Go duration ("1h30m", "1.5h", "500ms") into milliseconds (fractional below 1 ms). */
export function parseDuration(input: string): number {
  const ns = parseNanoseconds(input);
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/**
 * A Go duration as whole milliseconds: the one rule for turning an operator's duration into the
 * integer milliseconds that config, job payloads and inventory records carry (their schemas
 * require integers). A sub-millisecond remainder is rounded to the nearest millisecond, half up,
 * as Go's Duration.Round(time.Millisecond) does: "1.5ms" is 2, "1.1h" is exactly 3960000.
 */
export function parseDurationMs(input: string): number {
  const ns = parseNanoseconds(input);
  return Number((ns + NS_PER_MS / 2n) / NS_PER_MS);
}

/** Formats fraction digits the way Go does: trailing zeros dropped, no dot when nothing remains. */
function fraction(value: bigint, precision: number): { digits: string; rest: bigint } {
  let v = value;
  let digits = '';
  let printing = false;
  for (let i = 0; i < precision; i++) {
    const digit = v % 10n;
    printing = printing || digit !== 0n;
    if (printing) digits = `${digit}${digits}`;
    v /= 10n;
  }
  return { digits: digits === '' ? '' : `.${digits}`, rest: v };
}

/** Go's time.Duration.String(): 86400000 -> "24h0m0s", 5400000 -> "1h30m0s", 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw invalid(String(ms), 'it is not a finite number of milliseconds');
  let ns = BigInt(Math.round(ms * 1e6));
  const sign = ns < 0n ? '-' : '';
  if (ns < 0n) ns = -ns;
  if (ns === 0n) return '0s';
  if (ns < 1_000_000_000n) {
    if (ns < 1_000n) return `${sign}${ns}ns`;
    const [precision, unit] = ns < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    const { digits, rest } = fraction(ns, precision);
    return `${sign}${rest}${digits}${unit}`;
  }
  const { digits, rest: totalSeconds } = fraction(ns, 9);
  let out = `${totalSeconds % 60n}${digits}s`;
  const totalMinutes = totalSeconds / 60n;
  if (totalMinutes > 0n) {
    out = `${totalMinutes % 60n}m${out}`;
    const hours = totalMinutes / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return `${sign}${out}`;
}
