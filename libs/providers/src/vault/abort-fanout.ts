// A job's cancellation signal is shared by every Vault call of its items, all in flight at once.
// One 'abort' listener per call (two with node:http's own `signal` option) went past Node's limit
// of ten listeners on an AbortSignal at six items: each such job printed a
// MaxListenersExceededWarning with its stack to stderr (operators read it as a leak; the ca-service
// spent ~2% of its CPU on the Vault path formatting them). Calls subscribe here instead: one
// listener per signal, however many calls share it, removed when the last call is done.

interface Subscribers {
  readonly listener: () => void;
  readonly callbacks: Set<() => void>;
}

const bySignal = new WeakMap<AbortSignal, Subscribers>();

/**
 * Runs `callback` once when `signal` aborts. The returned function unsubscribes (call it when the
 * work is done, so a long-lived signal keeps no listener for it). The caller checks
 * `signal.aborted` first: a signal that has already fired does not fire again.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let subscribers = bySignal.get(signal);
  if (subscribers === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      bySignal.delete(signal);
      for (const notify of [...callbacks]) notify();
      callbacks.clear();
    };
    subscribers = { listener, callbacks };
    bySignal.set(signal, subscribers);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = subscribers;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    signal.removeEventListener('abort', listener);
    if (bySignal.get(signal)?.listener === listener) bySignal.delete(signal);
  };
}
