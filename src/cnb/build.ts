import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { artifactsToInstall, buildApp, checkRunConfig, targetArch } from "../core/build-app";
import { readConfigVars } from "../core/config-vars";
import { UserError } from "../core/errors";
import { layOutDynoFiles } from "../core/layout";
import type { Log } from "../core/log";
import { loadManifest } from "../core/manifest";
import { type CdxBom, layerBom, readArtifactSbom } from "../core/sbom";
import { formatLayerToml, readLayerMetadata } from "./layer-toml";

const LAYER = "nginx-pgbouncer";
const DOWNLOADS_LAYER = "downloads";

/**
 * CNB `bin/build LAYERS PLATFORM PLAN` (buildpack API 0.10), run in the app directory. The
 * binaries go into a launch+cache layer whose [metadata] holds their sha256s: when a restored layer
 * has the same ones it is reused as it is, otherwise it is rebuilt.
 */
export async function cnbBuild(args: string[], buildpackDir: string, log: Log): Promise<void> {
  const layersDir = args[0] ?? process.env.CNB_LAYERS_DIR;
  const platformDir = args[1] ?? process.env.CNB_PLATFORM_DIR;
  if (!layersDir || !platformDir)
    throw new UserError(
      "bin/build needs the layers and platform directories",
      "The CNB lifecycle passes them; run it through pack or a lifecycle.",
    );
  const appDir = process.cwd();
  // bin/build works the stack out from the lifecycle's target (bin/lib/cnb-stack.sh).
  const stack = process.env.STACK ?? "";
  const envDir = existsSync(join(platformDir, "env")) ? join(platformDir, "env") : undefined;
  const config = readConfigVars(envDir);
  const manifest = loadManifest(join(buildpackDir, "vendor-manifest.json"));
  // The image's architecture, which the lifecycle names; the build may run emulated on another.
  const arch = process.env.CNB_TARGET_ARCH
    ? targetArch(process.env.CNB_TARGET_ARCH, "CNB_TARGET_ARCH")
    : targetArch(process.arch, "this build machine's architecture");
  const artifacts = artifactsToInstall(manifest, stack, arch, config);
  const wanted: Record<string, string> = { stack, arch };
  for (const a of artifacts) wanted[`${a.name}.sha256`] = a.sha256;

  const layer = join(layersDir, LAYER);
  const restored = readLayerMetadata(`${layer}.toml`);
  const reusable = restored !== null && existsSync(layer) && sameMetadata(restored, wanted);
  if (reusable) {
    log.step("Reusing the cached nginx, pgbouncer and stunnel layer");
    for (const a of artifacts) log.detail(`${a.name} ${a.version}: unchanged`);
    const { scripts } = layOutDynoFiles(buildpackDir, appDir, log);
    checkRunConfig(appDir, layer, envDir, scripts, arch, log);
  } else {
    if (restored !== null) log.step("The pinned artifacts changed: rebuilding the layer");
    rmSync(layer, { recursive: true, force: true });
    mkdirSync(layer, { recursive: true });
    const downloads = join(layersDir, DOWNLOADS_LAYER);
    await buildApp({
      buildpackDir,
      manifest,
      stack,
      arch,
      config,
      envDir,
      appDir,
      vendorDir: layer,
      downloadCacheDir: downloads,
      log,
    });
    // Downloads are only a cache between builds; they are not part of the image.
    writeFileSync(
      `${downloads}.toml`,
      formatLayerToml({ types: { launch: false, build: false, cache: true }, metadata: {} }),
    );
  }
  // Launched processes get no profile.d: what the start scripts need comes from env.launch/.
  const envLaunch = join(layer, "env.launch");
  mkdirSync(envLaunch, { recursive: true });
  writeFileSync(join(envLaunch, "_NGINX_PGBOUNCER_BINARIES.override"), layer);
  writeFileSync(
    join(envLaunch, "PATH.prepend"),
    ["nginx", "pgbouncer", "stunnel"].map((n) => join(layer, n, "bin")).join(":"),
  );
  writeFileSync(join(envLaunch, "PATH.delim"), ":");
  writeFileSync(
    `${layer}.toml`,
    formatLayerToml({ types: { launch: true, build: false, cache: true }, metadata: wanted }),
  );
  // The lifecycle exports <layer>.sbom.cdx.json into the image's SBOM (buildpack.toml: sbom-formats).
  const boms = artifacts.map((a) => readArtifactSbom(a, join(layer, a.name))).filter((b): b is CdxBom => b !== null);
  if (boms.length) writeFileSync(`${layer}.sbom.cdx.json`, `${JSON.stringify(layerBom(LAYER, boms), null, 2)}\n`);
}

function sameMetadata(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a).sort();
  return JSON.stringify(keys) === JSON.stringify(Object.keys(b).sort()) && keys.every((k) => a[k] === b[k]);
}
