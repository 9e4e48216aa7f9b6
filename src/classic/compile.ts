import { join } from "node:path";
import { buildApp, targetArch } from "../core/build-app";
import { readConfigVars } from "../core/config-vars";
import { UserError } from "../core/errors";
import type { Log } from "../core/log";
import { loadManifest } from "../core/manifest";

/** Heroku classic: `bin/compile BUILD_DIR CACHE_DIR ENV_DIR`, with STACK in the environment. */
export async function compile(args: string[], buildpackDir: string, log: Log): Promise<void> {
  const [buildDir, cacheDir, envDir] = args;
  if (!buildDir || !cacheDir) {
    throw new UserError(
      "bin/compile needs BUILD_DIR and CACHE_DIR",
      "Usage: bin/compile BUILD_DIR CACHE_DIR [ENV_DIR]",
    );
  }
  await buildApp({
    buildpackDir,
    manifest: loadManifest(join(buildpackDir, "vendor-manifest.json")),
    stack: process.env.STACK ?? "",
    // Heroku's classic builds run on amd64, the machine the app's dynos run on.
    arch: targetArch(process.arch, "this build machine's architecture"),
    config: readConfigVars(envDir),
    envDir: envDir || undefined,
    appDir: buildDir,
    vendorDir: join(buildDir, "vendor"),
    downloadCacheDir: join(cacheDir, "nginx-pgbouncer", "downloads"),
    log,
  });
}
