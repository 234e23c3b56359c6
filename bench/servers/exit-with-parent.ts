/**
 * Preloaded into every process the bench starts (`--import`): when the bench goes away, the IPC
 * channel closes, and this process stops as if sent SIGTERM (the gateway then shuts down cleanly;
 * the bench servers exit). Nothing else: it adds no work to a request.
 */
if (process.connected) {
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
  });
  // The channel must not keep a process alive that would otherwise exit, nor wake its event loop.
  process.channel?.unref();
}
