// The admin token `npm start` and the stacks make when none is given. Hex, so it never begins
// with `-`: a base64url token does one time in 64, and `fsm-certs --token <token>` (or any CLI
// parser) then reads it as an option ("argument is ambiguous") instead of the token.
import { randomBytes } from 'node:crypto';

/** 24 random bytes as 48 lowercase hex characters. */
export function newAdminToken(): string {
  return randomBytes(24).toString('hex');
}
