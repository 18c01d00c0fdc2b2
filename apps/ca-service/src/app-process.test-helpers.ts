// Runs this app's main.ts in a child process through tsx, as a pod would run it, so tests can
// SIGTERM it or kill -9 it. Output lines are kept for assertions and failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

export class AppUnderTest {
  readonly lines: string[] = [];
  private child: ChildProcess;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    private readonly mainPath: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    ({ child: this.child, exit: this.exit } = this.spawn());
  }

  private spawn() {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', this.mainPath], {
      cwd: repoRoot,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) this.lines.push(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    return { child, exit };
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => pattern.test(l));
      if (found !== undefined) return found;
      if (!this.running) throw new Error(`app exited before printing ${String(pattern)}:\n${this.lines.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no line matching ${String(pattern)} after ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit;
  }

  /** kill -9 and wait for the process to be gone. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exit;
  }

  restart(): void {
    if (this.running) throw new Error('still running');
    this.lines.length = 0;
    ({ child: this.child, exit: this.exit } = this.spawn());
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exit;
    clearTimeout(timer);
  }
}
