// Tests that expect a provider call to fail: the ProviderError it rejects with, so its code,
// status and message can be asserted. Anything else (a resolve, another error) fails the test.
import { ProviderError } from './errors.js';

export async function providerFailure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a ProviderError');
}
