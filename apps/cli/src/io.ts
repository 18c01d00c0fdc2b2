// What a command may touch of the outside world, passed in so tests can run the CLI in-process
// with their own environment, working directory, clock and output.
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Aborted on Ctrl-C / SIGTERM: `events` stops following and exits 0. */
  readonly signal: AbortSignal;
  readonly now: () => Date;
  /**
   * Runs this same command again in a child process that trusts `caFile` (NODE_EXTRA_CA_CERTS is
   * only read at start-up), resolving to its exit code. Absent where a relaunch is impossible.
   */
  readonly relaunchTrusting?: (caFile: string) => Promise<number>;
}
