/** Maps one environment variable onto a key path of the configuration. */
export interface EnvBinding {
  readonly env: string;
  readonly path: readonly string[];
  /** Redact the value in error messages (tokens, passwords). */
  readonly secret?: boolean;
  /** Turn the env string into the file-shaped value(s); default: the string at `path`. */
  readonly expand?: (value: string) => ReadonlyArray<{ readonly path: readonly string[]; readonly value: unknown }>;
}
