// Go time.ParseDuration syntax ("24h", "1h30m", "1.5h", "90s", "500ms"), kept here because
// libs/config depends on nothing of ours. Returns milliseconds, or undefined when invalid.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseGoDurationMs(input: string): number | undefined {
  let text = input.trim();
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    sign = text.startsWith('-') ? -1 : 1;
    text = text.slice(1);
  }
  if (text === '0') return 0;
  if (text === '') return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const match = TERM.exec(text);
    if (match === null) return undefined;
    const [, amount, unit] = match;
    const scale = unit === undefined ? undefined : UNIT_MS[unit];
    if (amount === undefined || scale === undefined) return undefined;
    total += Number(amount) * scale;
  }
  return sign * total;
}
