// MONITOR's commands as the benches name them: BullMQ's scripts by name, ours by their first key.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { moveToActive } from 'bullmq/dist/esm/scripts/index.js';
import { commandName, stepName } from './command-names.js';

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

describe('commandName', () => {
  it("names one of BullMQ's scripts by its name, whatever keys it is given", () => {
    expect(commandName(['EVALSHA', sha1(moveToActive.content), '11', '{fsm-certs}:issue:wait'])).toBe('evalsha moveToActive');
  });

  it('names a script of ours by the last two segments of its first key', () => {
    expect(commandName(['evalsha', sha1('return 1'), '2', '{fsm-certs}:hop:requests', '{fsm-certs}:hop:replies:x'])).toBe('evalsha hop:requests');
  });

  it('names a blocking pop by its list and other commands alone', () => {
    expect(commandName(['BZPOPMIN', '{fsm-certs}:issue:marker', '5'])).toBe('bzpopmin issue');
    expect(commandName(['XADD', '{fsm-certs}:hop:requests', '*'])).toBe('xadd');
    expect(stepName('producer', ['XREAD', 'BLOCK', '1000'])).toBe('producer xread');
  });
});
