/** Heroku's build output conventions: `-----> ` for a step, seven spaces for its detail lines. */
export interface Log {
  step(text: string): void;
  detail(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

export function consoleLog(
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Log {
  const lines = (prefix: string, text: string) =>
    `${text
      .split("\n")
      .map((l) => prefix + l)
      .join("\n")}\n`;
  return {
    step: (t) => out.write(lines("-----> ", t)),
    detail: (t) => out.write(lines("       ", t)),
    warn: (t) => err.write(lines(" !     ", t)),
    error: (t) => err.write(lines(" !     ", t)),
  };
}

/** 1234567 -> "1.2 MB": sizes as a person reads them in build output. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function elapsed(startMs: number): string {
  return `${((Date.now() - startMs) / 1000).toFixed(1)} s`;
}
