// Runs a TypeScript entry point of ours (tools and tests, not the buildpack itself) by bundling it
// with esbuild into a temporary CommonJS file: one toolchain for the bundle and the tools.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node support/run-ts.mjs FILE.ts [ARGS...]");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "run-ts-"));
const outfile = join(dir, "main.cjs");
try {
  await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    platform: "node",
    target: "node16",
    format: "cjs",
    outfile,
    sourcemap: "inline",
    logLevel: "warning",
  });
  const run = spawnSync(process.execPath, ["--enable-source-maps", outfile, ...args], { stdio: "inherit" });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
