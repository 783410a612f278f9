/** Values produced by tasks (e.g. the seed's root key), keyed by task name. */
export type Outputs = Record<string, unknown>;

/** How the runner knows a service is ready. Every check has a deadline. */
export type Readiness =
  /** An HTTP GET answers `status` (default 200). */
  | { http: string; status?: number }
  /** A TCP connection to host:port succeeds. */
  | { tcp: { host: string; port: number } }
  /** Any check: truthy means ready, a throw or falsy means not yet. */
  | { probe: string; check: () => Promise<boolean> };

interface StepBase {
  /** Unique; also the log prefix. */
  name: string;
  /** Steps that must be ready (services) or done (tasks) before this one starts. */
  after?: string[];
  /**
   * `true` to run it, or a sentence saying why it is skipped (printed). A skipped step counts as
   * ready for the steps that come after it.
   */
  enabled?: () => true | string;
}

/** A long-running child process. */
export interface ServiceSpec extends StepBase {
  kind: "service";
  command: string;
  args: string[];
  cwd?: string;
  /** Merged over the stack's own environment; a function sees the outputs of earlier tasks. */
  env?: Record<string, string> | ((outputs: Outputs) => Record<string, string>);
  /** Ports it will listen on, by label; all are checked before anything starts. */
  ports?: Record<string, number>;
  /** Runs before spawning (write a config file, initialise a data dir). */
  prepare?: (log: (line: string) => void) => Promise<void>;
  ready: Readiness;
  /** Deadline of the readiness check (default 60 s). */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace on stop (default 5 s). */
  graceMs?: number;
  /** Printed in the summary once the stack is up. */
  urls?: Record<string, string>;
  /** Rewrites (or, returning undefined, drops) a line of its output before it is shown and logged. */
  formatLine?: (line: string) => string | undefined;
}

/** A one-shot step run inside the stack process (migrations, seed, packing an artifact). */
export interface TaskSpec extends StepBase {
  kind: "task";
  /** Its resolved value is stored in `outputs[name]`. */
  run: (outputs: Outputs, log: (line: string) => void) => Promise<unknown>;
}

/** One entry of the stack's declarative list. */
export type StepSpec = ServiceSpec | TaskSpec;

/** A port that something else already listens on. */
export interface BusyPort {
  step: string;
  label: string;
  port: number;
}

/** Thrown before anything starts when ports are taken; the message names each of them. */
export class PortsBusyError extends Error {
  constructor(readonly busy: BusyPort[]) {
    super(
      [
        `cannot start: ${busy.length === 1 ? "a port is" : "ports are"} already in use:`,
        ...busy.map((b) => `  ${b.port}  (${b.step} ${b.label}) — see who holds it: ss -ltnp 'sport = :${b.port}'`),
        "Stop whatever holds it (a previous `pnpm dev` still running?) or move ours with the CTRL_DEV_*_PORT variables (dev/README.md).",
      ].join("\n"),
    );
  }
}

/** Thrown when a step fails to start; carries the last output lines of the failing process. */
export class StepFailedError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
  }
}

/** Thrown by steps that were still starting when the stack was stopped (or another step failed). */
export class StackStoppedError extends Error {
  constructor() {
    super("the stack was stopped while starting");
  }
}

/** Rejects duplicate names, unknown `after` names and dependency cycles (naming the cycle). */
export function validateSpecs(specs: readonly StepSpec[]): void {
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new Error(`dev stack: two steps are named "${s.name}"`);
    names.add(s.name);
  }
  for (const s of specs) {
    for (const dep of s.after ?? []) if (!names.has(dep)) throw new Error(`dev stack: "${s.name}" comes after unknown step "${dep}"`);
  }
  // Depth-first search for a cycle, naming it.
  const state = new Map<string, "visiting" | "done">();
  const byName = new Map(specs.map((s) => [s.name, s]));
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`dev stack: dependency cycle ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const dep of byName.get(name)?.after ?? []) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const s of specs) visit(s.name, []);
}
