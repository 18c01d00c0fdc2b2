// When is the stack ready? When OUR issuer-gateway serves and says it is ready. Whatever answers
// on the gateway port is not enough: with the port taken, another server (an earlier `npm start`,
// anything) answers there while our gateway dies of EADDRINUSE. So the gateway child first
// announces over IPC, with its own pid, that it bound the port; only while that same child runs
// does a 200 from /readyz on that port count.
import type { AppProcess } from './app-process.js';
import { StackError } from './errors.js';

export interface WaitForGatewayInput {
  readonly gateway: AppProcess;
  readonly gatewayUrl: string;
  readonly timeoutMs: number;
  /** Set when the stack has failed (crash loop, port in use): the wait ends with it. */
  readonly failure: () => StackError | undefined;
  /** An app that died and will not be restarted (unsupervised stacks). */
  readonly deadApp: () => AppProcess | undefined;
  /** Recent output of every app, for the timeout message. */
  readonly tails: () => string;
}

const POLL_MS = 250;

export async function waitForGateway(input: WaitForGatewayInput): Promise<void> {
  const { gateway, gatewayUrl } = input;
  const deadline = Date.now() + input.timeoutMs;
  let last = 'the gateway has not announced that it listens yet';
  while (Date.now() < deadline) {
    const failure = input.failure();
    if (failure !== undefined) throw failure;
    const dead = input.deadApp();
    if (dead !== undefined) {
      throw new StackError('STACK_START_FAILED', `${dead.label} exited during start-up (see ${dead.logFile ?? 'its output'}):\n${dead.recentOutput.slice(-30).join('\n')}`);
    }
    const announced = gateway.announced;
    if (announced !== undefined && gateway.running) {
      if (!samePort(announced.url, gatewayUrl)) {
        throw new StackError('STACK_START_FAILED', `the issuer-gateway listens on ${announced.url}, not on ${gatewayUrl} as configured`);
      }
      try {
        const res = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
        // Still the same child: the port was ours for the whole request.
        if (res.status === 200 && gateway.running && gateway.announced === announced) return;
        last = `${res.status} ${await res.text()}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new StackError('STACK_NOT_READY', `the gateway was not ready after ${input.timeoutMs} ms (last: ${last})\n${input.tails()}`);
}

function samePort(a: string, b: string): boolean {
  try {
    return new URL(a).port === new URL(b).port;
  } catch {
    return false;
  }
}
