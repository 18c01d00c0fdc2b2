// Turning flag strings into validated values, each failure one line naming the flag.
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, parseDurationMs, type KeyAlgorithm } from '@fsm-certs/core';
import { CliInputError } from './errors.js';

export function keyAlgorithmOption(value: string | undefined, fallback: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): KeyAlgorithm {
  if (value === undefined) return fallback;
  const found = KEY_ALGORITHMS.find((k) => k === value);
  if (found === undefined) throw new CliInputError(`--key ${JSON.stringify(value)} is not supported; use one of ${KEY_ALGORITHMS.join(', ')}`);
  return found;
}

export function durationOption(flag: string, value: string | undefined, fallback: string): number {
  try {
    return parseDurationMs(value ?? fallback);
  } catch (error) {
    throw new CliInputError(`${flag}: ${(error as Error).message}`, { cause: error });
  }
}

export function requiredOption(flag: string, value: string | undefined, example: string): string {
  if (value === undefined || value === '') throw new CliInputError(`${flag} is required, e.g. ${flag} ${example}`);
  return value;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** --san values: IP addresses, URIs (spiffe://...) and DNS names, told apart by their shape. */
export function splitSans(values: readonly string[]): { dnsNames: string[]; uris: string[]; ipAddresses: string[] } {
  const out = { dnsNames: [] as string[], uris: [] as string[], ipAddresses: [] as string[] };
  for (const value of values) {
    if (value.includes('://')) out.uris.push(value);
    else if (IPV4.test(value) || value.includes(':')) out.ipAddresses.push(value);
    else out.dnsNames.push(value);
  }
  return out;
}
