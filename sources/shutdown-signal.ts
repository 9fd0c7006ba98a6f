/**
 * Resolves on SIGINT/SIGTERM; the abort signal lets long loops stop. Installed
 * only once the run has connected: a signal before that ends the process as usual.
 */
export function shutdownSignal(): { signal: AbortSignal; stopped: Promise<string> } {
  const controller = new AbortController();
  const stopped = new Promise<string>((resolveStop) => {
    const on = (name: string) => () => {
      controller.abort();
      resolveStop(name);
    };
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
  return { signal: controller.signal, stopped };
}
