/** Stable step names written to `deployment_steps` (the CLI and dashboards key on them). */
export const buildSteps = {
  fetch: "build:fetch",
  extract: "build:extract",
  install: "build:install",
  compile: "build:compile",
  pack: "build:pack",
  upload: "build:upload",
  docker: "build:docker",
} as const;

/** One of {@link buildSteps}. */
export type BuildStepName = (typeof buildSteps)[keyof typeof buildSteps];

/** Where a build reports progress: steps as they open and close, and its log line by line. */
export interface BuildReporter {
  /** Opens (`running`) or closes (`completed`, `failed`, `skipped`) a step. */
  step(step: BuildStepName, status: "running" | "completed" | "failed" | "skipped", message: string, errorMessage?: string): Promise<void>;
  /** One log line of `step` (a command's stdout/stderr, or a note of ours). Never blocks on I/O. */
  log(step: BuildStepName, line: string): void;
  /** Writes buffered log lines out. */
  flush(): Promise<void>;
  /** Stops background work (timers); call after the last flush. */
  close?(): void;
}

/** A reporter that keeps everything in memory (tests, and the CLI's local dry runs). */
export function memoryReporter(): BuildReporter & {
  steps: Array<{ step: string; status: string; message: string; errorMessage?: string }>;
  lines: Array<{ step: string; line: string }>;
} {
  const steps: Array<{ step: string; status: string; message: string; errorMessage?: string }> = [];
  const lines: Array<{ step: string; line: string }> = [];
  return {
    steps,
    lines,
    async step(step, status, message, errorMessage) {
      steps.push({ step, status, message, ...(errorMessage !== undefined ? { errorMessage } : {}) });
    },
    log(step, line) {
      lines.push({ step, line });
    },
    async flush() {},
  };
}
