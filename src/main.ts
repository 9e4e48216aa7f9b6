/**
 * The bundled entry point, run by the bin/ shims: `node dist/buildpack.cjs COMMAND ARGS...`.
 * A failure is one of three kinds: a UserError (the app or the build host, said with its fix), a
 * BuildpackFault (the buildpack's own files disagree, said as ours to fix) or anything else, a bug
 * reported with its stack.
 */
import { dirname, join } from "node:path";
import { compile } from "./classic/compile";
import { cnbBuild } from "./cnb/build";
import { isBuildpackFault, isUserError } from "./core/errors";
import { consoleLog } from "./core/log";
import { loadManifest } from "./core/manifest";
import { nodePinsScript } from "./core/node-pins";

const FS_ERRORS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
};

async function main(argv: string[]): Promise<void> {
  const log = consoleLog();
  const buildpackDir = process.env.BUILDPACK_DIR ?? dirname(__dirname);
  const [command, ...args] = argv;
  try {
    if (command === "compile") await compile(args, buildpackDir, log);
    else if (command === "cnb-build") await cnbBuild(args, buildpackDir, log);
    else if (command === "node-pins")
      process.stdout.write(nodePinsScript(loadManifest(join(buildpackDir, "vendor-manifest.json"))));
    else throw new Error(`unknown command ${command}`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (isUserError(e)) {
      log.error(`Error: ${e.message}`);
      if (e.hint) log.error(e.hint);
    } else if (isBuildpackFault(e)) {
      log.error(`Error: the buildpack's own files are at fault, not your app: ${e.message}`);
      log.error(
        "Please report it with this output; building with an earlier release of the buildpack gets round it meanwhile.",
      );
      if (e.fix) log.error(`For the buildpack's maintainers: ${e.fix}`);
    } else if (err.code && FS_ERRORS[err.code]) {
      log.error(`Error: cannot write ${err.path ?? "the build directory"}: ${FS_ERRORS[err.code]}.`);
      log.error("The build directory and the cache must be writable and have free space.");
    } else {
      log.error(`Error: the buildpack failed unexpectedly (a bug; please report it): ${err.message}`);
    }
    process.exitCode = 1;
  }
}

void main(process.argv.slice(2));
