/** Where a command writes: progress for people on stderr (silent with --json), results on stdout. */
export interface Output {
  json: boolean;
  /** A progress or status line for people (stderr; nothing in --json mode). */
  info(line: string): void;
  /** The command's result: JSON on stdout with --json, else the text on stdout. */
  result(json: unknown, text: string): void;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** The output of one CLI run. */
export function createOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  return {
    json,
    stdout,
    stderr,
    info(line) {
      if (!json) stderr.write(`${line}\n`);
    },
    result(value, text) {
      stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith("\n") ? text : `${text}\n`);
    },
  };
}
