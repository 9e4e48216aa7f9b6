import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type BuildConfig, vendorBaseUrl } from "./config-vars";
import { UserError } from "./errors";
import { type Installed, installArtifacts } from "./install";
import { layOutDynoFiles } from "./layout";
import { elapsed, type Log } from "./log";
import { type Arch, type Artifact, archOf, type Manifest, selectArtifacts } from "./manifest";

export interface BuildRequest {
  buildpackDir: string;
  manifest: Manifest;
  stack: string;
  /** The architecture the app runs on: the binaries' (the compile step's Node may differ). */
  arch: Arch;
  config: BuildConfig;
  /** ENV_DIR (classic) or the platform's env/ (CNB): the config vars the dynos will run with. */
  envDir: string | undefined;
  /** The app directory: the slug (classic) or the app dir beside the layers (CNB). */
  appDir: string;
  /** Where the binaries go: `<appDir>/vendor` (classic) or a layer (CNB). */
  vendorDir: string;
  downloadCacheDir: string;
  log: Log;
}

/** What a slug runs with on `stack` and `arch`: nginx, pgbouncer and stunnel, versions as the config vars ask. */
export function artifactsToInstall(manifest: Manifest, stack: string, arch: Arch, config: BuildConfig): Artifact[] {
  return selectArtifacts(
    manifest,
    stack,
    { nginx: config.NGINX_VERSION, pgbouncer: config.PGBOUNCER_VERSION, stunnel: config.STUNNEL_VERSION },
    arch,
  ).filter((a) => a.name !== "node");
}

/** The architecture a front end was given (CNB_TARGET_ARCH) or runs on (Node's process.arch). */
export function targetArch(name: string, source: string): Arch {
  const arch = archOf(name);
  if (!arch)
    throw new UserError(
      `${source} is ${JSON.stringify(name)}, an architecture this buildpack has no binaries for`,
      "Build for amd64 or arm64.",
    );
  return arch;
}

/**
 * The work both front ends share: pick the stack's artifacts, install them verified, lay out the
 * start scripts and check the nginx config. A failed build leaves no half install.
 */
export async function buildApp(req: BuildRequest): Promise<Installed[]> {
  const started = Date.now();
  const { log } = req;
  const { manifest } = req;
  const artifacts = artifactsToInstall(manifest, req.stack, req.arch, req.config);
  const baseUrl = vendorBaseUrl(req.config, manifest.baseUrl);

  log.step(`Installing nginx, pgbouncer and stunnel for ${req.stack}${req.arch === "amd64" ? "" : ` (${req.arch})`}`);
  // What this build put into the app (the nginx -t run creates logs/nginx), taken back if a later
  // step fails: a failed build leaves the directories as it found them.
  const placed = [req.vendorDir, ...["bin", ".profile.d", "logs"].map((d) => join(req.appDir, d))].filter(
    (d) => !existsSync(d),
  );
  try {
    const installed = await placeArtifacts(req, manifest, artifacts, baseUrl, placed);
    log.step("Installing start scripts");
    const { scripts, written } = layOutDynoFiles(req.buildpackDir, req.appDir, log);
    placed.push(...written);
    log.detail(scripts.join(", "));
    checkRunConfig(req.appDir, req.vendorDir, req.envDir, scripts, req.arch, log);
    log.step(`Done in ${elapsed(started)}`);
    return installed;
  } catch (e) {
    for (const p of placed) rmSync(p, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Binaries are unpacked into a staging directory and moved into place only when all of them are
 * good; each one moved is recorded in `placed`.
 */
async function placeArtifacts(
  req: BuildRequest,
  manifest: Manifest,
  artifacts: Artifact[],
  baseUrl: string,
  placed: string[],
): Promise<Installed[]> {
  const staging = join(req.vendorDir, `.nginx-pgbouncer-staging-${process.pid}`);
  try {
    mkdirSync(staging, { recursive: true });
    const installed = await installArtifacts(artifacts, staging, {
      baseUrl,
      manifest,
      cacheDir: req.downloadCacheDir,
      log: req.log,
    });
    for (const i of installed) {
      const final = join(req.vendorDir, i.artifact.name);
      rmSync(final, { recursive: true, force: true });
      renameSync(join(staging, i.artifact.name), final);
      placed.push(final);
      i.dir = final;
    }
    return installed;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * What the dynos will run, checked at build time by the start scripts themselves, with
 * `--check-config ENV_DIR`: the config vars in ENV_DIR with the same checks as at boot, the app's
 * config/pgbouncer.ini, and the rendered nginx config with `nginx -t`. Boot checks them again:
 * config vars change without a build.
 */
export function checkRunConfig(
  appDir: string,
  vendorDir: string,
  envDir: string | undefined,
  installed: string[],
  arch: Arch,
  log: Log,
): void {
  // Ours only: an app's own script of the same name (kept, with a warning) knows no --check-config.
  const scripts = ["bin/start-nginx", "bin/start-pgbouncer"].filter((s) => installed.includes(s));
  if (scripts.length === 0) return;
  log.step("Checking the config vars and the nginx configuration");
  const lines = new Set<string>();
  for (const script of scripts) {
    const r = spawnSync("bash", [join(appDir, script), "--check-config", ...(envDir ? [envDir] : [])], {
      cwd: appDir,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: appDir,
        PORT: "5000",
        TMPDIR: process.env.TMPDIR ?? "/tmp",
        _NGINX_PGBOUNCER_BINARIES: vendorDir,
        // Binaries for another architecture than this build machine's cannot run nginx -t here.
        ...(archOf(process.arch) === arch ? {} : { _NGINX_PGBOUNCER_FOREIGN_ARCH: arch }),
      },
    });
    if (r.status !== 0) {
      throw new UserError(
        `the app's configuration would not boot:\n${(r.stdout + r.stderr).trim()}`,
        "Fix what the lines above name (heroku config:set, config/pgbouncer.ini or config/nginx.conf.erb) and build again.",
      );
    }
    for (const line of r.stdout.trim().split("\n")) if (line) lines.add(line);
  }
  for (const line of lines) log.detail(line);
}
