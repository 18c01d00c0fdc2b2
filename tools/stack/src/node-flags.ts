// FSM_NODE_FLAGS: extra flags for node itself, placed before each app's entry point, for V8 flags
// node refuses in NODE_OPTIONS (e.g. `--single-threaded-gc`), so a benchmark can weigh a runtime
// setting against the defaults (tools/bench/README.md, "gc"). The apps run with node's defaults.

/** The words of a flags value: whitespace-separated, empty words dropped. */
export function parseNodeFlags(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

/** The extra node flags for an app with environment `env`. */
export function nodeFlags(env: NodeJS.ProcessEnv): string[] {
  return parseNodeFlags(env['FSM_NODE_FLAGS'] ?? '');
}
