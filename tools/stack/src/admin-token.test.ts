import { describe, expect, it } from 'vitest';
import { newAdminToken } from './admin-token.js';

describe('newAdminToken', () => {
  it('never begins with "-", so `--token <token>` is never read as an option (2,000 draws)', () => {
    // A base64url token begins with "-" one time in 64: 2,000 draws of the old form all passing
    // has a chance of about 2e-14.
    for (let i = 0; i < 2000; i += 1) {
      const token = newAdminToken();
      expect(token).toMatch(/^[0-9a-f]{48}$/);
    }
  });

  it('draws a new token each time', () => {
    expect(new Set(Array.from({ length: 100 }, () => newAdminToken())).size).toBe(100);
  });
});
