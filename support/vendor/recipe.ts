import { readdirSync, readFileSync, statSync } from "fs";
import { join, relative } from "path";
import { Manifest } from "../../src/core/manifest";
import { sha256Text } from "../../src/core/sha256";

/** "pcre2" -> "PCRE2": the suffix of the SRC_* and VER_* variables build-static.sh reads. */
export function libraryEnvName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

/**
 * A key for everything that goes into the artifacts: the manifest's pins (but not the artifact
 * checksums, which are outputs) and every file of the build recipe. Same key, same bytes.
 */
export function buildInputsKey(manifest: Manifest, vendorDir: string): string {
  const pins = {
    ...manifest,
    baseUrl: undefined,
    stacks: undefined,
    artifacts: manifest.artifacts.map((a) => ({ ...a, sha256: undefined, size: undefined })),
  };
  const recipe = filesUnder(vendorDir)
    .filter((p) => /\.(sh|patch)$|\/series$/.test(p))
    .map((p) => `${relative(vendorDir, p)}\n${sha256Text(readFileSync(p))}`);
  return sha256Text(JSON.stringify(pins) + "\n" + recipe.join("\n")).slice(0, 16);
}
