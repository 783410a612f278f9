/**
 * Keeps the stack alive long enough to stop what it started when its own output goes away.
 *
 * `pnpm dev | tee dev.log` and Ctrl-C: the terminal signals the whole pipeline, `tee` exits at once,
 * and every later write of ours fails with EPIPE. Node reports that as an `error` event on
 * stdout/stderr, which, unhandled, ends this process on the spot, orphaning every service (they run in
 * process groups of their own). With this guard a write to a reader that is gone is dropped, and
 * `onGone` runs once (the stack then stops everything: nobody is watching it any more).
 */
export function guardOutput(streams: NodeJS.WriteStream[], onGone: (err: NodeJS.ErrnoException) => void): { gone(): boolean } {
  let gone = false;
  for (const stream of streams)
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (gone) return;
      gone = true;
      onGone(err);
    });
  return { gone: () => gone };
}
