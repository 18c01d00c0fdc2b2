// The benches' numeric settings (BENCH_SECONDS, BENCH_ROUNDS, ...), read in one place: unset or
// empty means the default; anything that is not a finite number stops the bench with its name.
import { z } from 'zod';

const finite = z.coerce.number().finite();

export function benchEnvNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const parsed = finite.safeParse(raw);
  if (!parsed.success) throw new Error(`${name}=${raw} is not a number: set it to a number or unset it for the default (${fallback})`);
  return parsed.data;
}
