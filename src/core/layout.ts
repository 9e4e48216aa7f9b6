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

/** The buildpack's files a dyno runs (start scripts, their libraries, default configs), in its checkout. */
const DYNO_FILES = "dyno";

/** Where the start scripts' libraries, helpers and default configs live in the slug, relative to its root. */
export const BUILDPACK_HOME = "vendor/nginx-pgbouncer";

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
function formerBuildpackOf(script: string): string {
  return script.startsWith("start-pgbouncer") ? "heroku/pgbouncer" : "heroku-community/nginx";
}

function keptScriptWarning(script: string): string {
  const former = formerBuildpackOf(script);
  return (
    `bin/${script} is already in the app: keeping it, not installing ours.\n` +
    `If ${former} is still in the app's buildpacks (it writes this script), remove it: heroku buildpacks:remove ${former}\n` +
    `If the script is your own, rename it to use ours.`
  );
}

/**
 * Lays the dyno's files into the slug: the start scripts into bin/ (where the Procfile names them), their
 * libraries and default configs under vendor/nginx-pgbouncer/, and a .profile.d script that puts
 * the binaries on PATH. An app's own file of the same name in bin/ is kept, with a warning.
 */
export function layOutDynoFiles(buildpackDir: string, slugDir: string, log: Log): LaidOut {
  const source = join(buildpackDir, DYNO_FILES);
  const binDir = join(slugDir, "bin");
  mkdirSync(binDir, { recursive: true });
  const scripts: string[] = [];
  const written: string[] = [];
  for (const name of readdirSync(join(source, "bin")).sort()) {
    const src = join(source, "bin", name);
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
  written.push(join(slugDir, BUILDPACK_HOME));
  for (const sub of ["lib", "libexec", "conf"]) {
    if (existsSync(join(source, sub))) copyTree(join(source, sub), join(slugDir, BUILDPACK_HOME, sub));
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
