import { spawnSync } from "child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "fs";
import { join } from "path";
import { BuildConfig, vendorBaseUrl } from "./config-vars";
import { UserError } from "./errors";
import { installArtifacts, Installed } from "./install";
import { layOutRuntime } from "./layout";
import { Log, elapsed } from "./log";
import { Artifact, Manifest, selectArtifacts } from "./manifest";

export interface BuildRequest {
  buildpackDir: string;
  manifest: Manifest;
  stack: string;
  config: BuildConfig;
  /** The app directory: the slug (classic) or the app dir beside the layers (CNB). */
  appDir: string;
  /** Where the binaries go: `<appDir>/vendor` (classic) or a layer (CNB). */
  vendorDir: string;
  downloadCacheDir: string;
  log: Log;
}

/** What a slug runs with on `stack`: nginx, pgbouncer and stunnel, versions as the config vars ask. */
export function runtimeArtifacts(manifest: Manifest, stack: string, config: BuildConfig): Artifact[] {
  return selectArtifacts(manifest, stack, {
    nginx: config.NGINX_VERSION,
    pgbouncer: config.PGBOUNCER_VERSION,
    stunnel: config.STUNNEL_VERSION,
  }).filter((a) => a.name !== "node");
}

/**
 * The work both front ends share: pick the stack's artifacts, install them verified, lay out the
 * start scripts and check the nginx config. A failed build leaves no half install.
 */
export async function buildApp(req: BuildRequest): Promise<Installed[]> {
  const started = Date.now();
  const { log } = req;
  const { manifest } = req;
  const artifacts = runtimeArtifacts(manifest, req.stack, req.config);
  const baseUrl = vendorBaseUrl(req.config, manifest.baseUrl);

  log.step(`Installing nginx, pgbouncer and stunnel for ${req.stack}`);
  // What this build put into the app (the nginx -t run creates logs/nginx), taken back if a later
  // step fails: a failed build leaves the directories as it found them.
  const placed = [req.vendorDir, ...["bin", ".profile.d", "logs"].map((d) => join(req.appDir, d))].filter((d) => !existsSync(d));
  try {
    const installed = await placeArtifacts(req, manifest, artifacts, baseUrl, placed);
    log.step("Installing start scripts");
    const { scripts, written } = layOutRuntime(join(req.buildpackDir, "runtime"), req.appDir, log);
    placed.push(...written);
    log.detail(scripts.join(", "));
    checkNginxConfig(req.appDir, req.vendorDir, log);
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
async function placeArtifacts(req: BuildRequest, manifest: Manifest, artifacts: Artifact[], baseUrl: string, placed: string[]): Promise<Installed[]> {
  const staging = join(req.vendorDir, `.nginx-pgbouncer-staging-${process.pid}`);
  try {
    mkdirSync(staging, { recursive: true });
    const installed = await installArtifacts(artifacts, staging, { baseUrl, manifest, cacheDir: req.downloadCacheDir, log: req.log });
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

/** Renders the default nginx config with test values and runs `nginx -t` on it, at build time. */
function checkNginxConfig(appDir: string, vendorDir: string, log: Log): void {
  const script = join(appDir, "bin/start-nginx");
  if (!existsSync(script)) return;
  log.step("Checking the nginx configuration");
  const r = spawnSync("bash", [script, "--check-config"], {
    cwd: appDir,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: appDir, PORT: "5000", TMPDIR: process.env.TMPDIR ?? "/tmp", NGINX_PGBOUNCER_VENDOR: vendorDir },
  });
  if (r.status !== 0) {
    throw new UserError(`the nginx configuration does not pass nginx -t:\n${(r.stdout + r.stderr).trim()}`, "Fix config/nginx.conf.erb (the lines above say where) and build again.");
  }
  log.detail((r.stdout.trim() || "nginx -t: ok").split("\n").slice(-1)[0]);
}
