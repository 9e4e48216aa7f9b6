import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Log } from "./log";

/** Where the runtime support files live in the slug, relative to its root. */
export const RUNTIME_HOME = "vendor/nginx-pgbouncer";

function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyTree(src, dst);
    else {
      copyFileSync(src, dst);
      chmodSync(dst, statSync(src).mode & 0o777);
    }
  }
}

export interface LaidOut {
  /** The start scripts installed, relative to the slug. */
  scripts: string[];
  /** Every path this call created or overwrote, so that a failed build can take them back. */
  written: string[];
}

/** The buildpack a migrating app may still list, which writes a start script of this name. */
function anchorBuildpackOf(script: string): string {
  return script.startsWith("start-pgbouncer") ? "heroku/pgbouncer" : "heroku-community/nginx";
}

function keptScriptWarning(script: string): string {
  const anchor = anchorBuildpackOf(script);
  return (
    `bin/${script} is already in the app: keeping it, not installing ours.\n` +
    `If ${anchor} is still in the app's buildpacks (it writes this script), remove it: heroku buildpacks:remove ${anchor}\n` +
    `If the script is your own, rename it to use ours.`
  );
}

/**
 * Lays the runtime into the slug: the start scripts into bin/ (where the Procfile names them), their
 * libraries and default configs under vendor/nginx-pgbouncer/, and a .profile.d script that puts
 * the binaries on PATH. An app's own file of the same name in bin/ is kept, with a warning.
 */
export function layOutRuntime(runtimeSource: string, slugDir: string, log: Log): LaidOut {
  const binDir = join(slugDir, "bin");
  mkdirSync(binDir, { recursive: true });
  const scripts: string[] = [];
  const written: string[] = [];
  for (const name of readdirSync(join(runtimeSource, "bin")).sort()) {
    const src = join(runtimeSource, "bin", name);
    const dst = join(binDir, name);
    if (existsSync(dst) && !readFileSync(dst).equals(readFileSync(src))) {
      log.warn(keptScriptWarning(name));
      continue;
    }
    copyFileSync(src, dst);
    chmodSync(dst, 0o755);
    scripts.push(`bin/${name}`);
    written.push(dst);
  }
  written.push(join(slugDir, RUNTIME_HOME));
  for (const sub of ["lib", "conf"]) {
    if (existsSync(join(runtimeSource, sub))) copyTree(join(runtimeSource, sub), join(slugDir, RUNTIME_HOME, sub));
  }
  mkdirSync(join(slugDir, ".profile.d"), { recursive: true });
  const profile = join(slugDir, ".profile.d", "nginx-pgbouncer.sh");
  written.push(profile);
  writeFileSync(
    profile,
    "# Added by heroku-buildpack-nginx-pgbouncer: its binaries on PATH for one-off dynos and scripts.\n" +
      'export PATH="$HOME/vendor/nginx/bin:$HOME/vendor/pgbouncer/bin:$HOME/vendor/stunnel/bin:$PATH"\n',
  );
  return { scripts, written };
}
