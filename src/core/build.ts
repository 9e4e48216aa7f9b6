import { spawnSync } from "child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "fs";
import { join } from "path";
import { BuildConfig, vendorBaseUrl } from "./config-vars";
import { UserError } from "./errors";
import { installArtifacts, Installed } from "./install";
import { layOutRuntime } from "./layout";
import { Log, elapsed } from "./log";
import { Artifact, Manifest, loadManifest, selectArtifacts } from "./manifest";

export interface BuildRequest {
  buildpackDir: string;
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
 * start scripts and check the default nginx config. Binaries are unpacked into a staging directory
 * and moved into place only when all of them are good, so a failed build leaves no half install.
 */
export async function buildApp(req: BuildRequest): Promise<Installed[]> {
  const started = Date.now();
  const { log } = req;
  const manifest = loadManifest(join(req.buildpackDir, "vendor-manifest.json"));
  const artifacts = runtimeArtifacts(manifest, req.stack, req.config);
  const baseUrl = vendorBaseUrl(req.config, manifest.baseUrl);

  log.step(`Installing nginx, pgbouncer and stunnel for ${req.stack}`);
  const staging = join(req.vendorDir, `.nginx-pgbouncer-staging-${process.pid}`);
  let installed: Installed[];
  try {
    mkdirSync(staging, { recursive: true });
    installed = await installArtifacts(artifacts, staging, { baseUrl, cacheDir: req.downloadCacheDir, log });
    for (const { artifact } of installed) {
      const final = join(req.vendorDir, artifact.name);
      rmSync(final, { recursive: true, force: true });
      renameSync(join(staging, artifact.name), final);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  for (const i of installed) i.dir = join(req.vendorDir, i.artifact.name);

  log.step("Installing start scripts");
  const scripts = layOutRuntime(join(req.buildpackDir, "src/runtime"), req.appDir, log);
  log.detail(scripts.join(", "));

  checkNginxConfig(req.appDir, req.vendorDir, log);
  log.step(`Done in ${elapsed(started)}`);
  return installed;
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
