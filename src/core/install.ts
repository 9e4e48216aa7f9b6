import { join } from "node:path";
import { fetchVerified } from "./download";
import { extractArtifact } from "./extract";
import { elapsed, humanBytes, type Log } from "./log";
import type { Artifact, Manifest } from "./manifest";
import { checkArtifactSbom } from "./sbom";

export interface InstallOptions {
  baseUrl: string;
  /** What the artifacts' SBOMs are held to. */
  manifest: Manifest;
  /** Where verified downloads are kept between builds. */
  cacheDir: string;
  log: Log;
}

export interface Installed {
  artifact: Artifact;
  dir: string;
  downloaded: boolean;
}

/** Downloads (or takes from the cache) and unpacks each artifact into `<destRoot>/<name>`. */
export async function installArtifacts(
  artifacts: Artifact[],
  destRoot: string,
  opts: InstallOptions,
): Promise<Installed[]> {
  const installed: Installed[] = [];
  for (const artifact of artifacts) {
    const started = Date.now();
    const { path, downloaded } = await fetchVerified(
      { url: `${opts.baseUrl}/${artifact.file}`, file: artifact.file, sha256: artifact.sha256, size: artifact.size },
      { cacheDir: opts.cacheDir, log: opts.log },
    );
    const dir = join(destRoot, artifact.name);
    await extractArtifact(path, dir);
    checkArtifactSbom(artifact, opts.manifest, dir);
    opts.log.detail(
      `${artifact.name} ${artifact.version}: ${humanBytes(artifact.size)}, ${downloaded ? "downloaded" : "from cache"}, sha256 verified${artifact.sbom ? ", SBOM matches" : ""} (${elapsed(started)})`,
    );
    installed.push({ artifact, dir, downloaded });
  }
  return installed;
}
