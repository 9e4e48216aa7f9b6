import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { BuildpackFault } from "../src/core/errors";
import type { Manifest } from "../src/core/manifest";
import { sha256Text } from "../src/core/sha256";

/** "pcre2" -> "PCRE2": the suffix of the SRC_* and VER_* variables build-static.sh reads. */
export function libraryEnvName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/** Every file below dir, in a stable order. */
export function filesUnder(dir: string): string[] {
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
    artifacts: manifest.artifacts.map((a) => ({ ...a, sha256: undefined, size: undefined, sbom: undefined })),
  };
  const recipe = filesUnder(vendorDir)
    .filter((p) => /\.(sh|patch|rb|c|h)$|\/series$|\/sbom\.ts$|\/advisories\.(ts|json)$/.test(p))
    .map((p) => `${relative(vendorDir, p)}\n${sha256Text(readFileSync(p))}`);
  return sha256Text(`${JSON.stringify(pins)}\n${recipe.join("\n")}`).slice(0, 16);
}

/** The patch files listed in patches/<dir>/series, as manifest paths ("debian/pgbouncer/x.patch"). */
export function seriesOf(vendorDir: string, dir: string): string[] {
  const file = join(vendorDir, "patches", dir, "series");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => `${dir}/${l}`);
}

/** The manifest's patch lists must be exactly what the build applies (the series files). */
export function checkPatchLists(manifest: Manifest, vendorDir: string): void {
  const problems: string[] = [];
  const compare = (what: string, listed: string[], applied: string[]) => {
    if (JSON.stringify(listed) !== JSON.stringify(applied))
      problems.push(`${what}: manifest lists [${listed.join(", ")}], the build applies [${applied.join(", ")}]`);
  };
  for (const lib of manifest.libraries) {
    compare(`${lib.name} (debian)`, lib.debian.patches, seriesOf(vendorDir, `debian/${lib.debian.package}`));
    compare(`${lib.name} (ours)`, lib.patches, seriesOf(vendorDir, `ours/${lib.name}`));
  }
  for (const a of manifest.artifacts) {
    if (a.debian) compare(`${a.name} (debian)`, a.debian.patches, seriesOf(vendorDir, `debian/${a.debian.package}`));
    compare(`${a.name} (ours)`, a.patches, a.name === "node" ? [] : seriesOf(vendorDir, `ours/${a.name}`));
  }
  if (problems.length)
    throw new BuildpackFault(
      `vendor-manifest.json does not match the patch series:\n${problems.join("\n")}`,
      "Update the manifest's patch lists or the series files.",
    );
}

/** Refuses (and deletes) a source whose sha256 is not the pinned one. */
export function checkSourceSha256(path: string, expected: string): void {
  const actual = sha256Text(readFileSync(path));
  if (actual !== expected) {
    rmSync(path, { force: true });
    throw new BuildpackFault(
      `${basename(path)} has sha256 ${actual}, but vendor-manifest.json pins ${expected}: refusing to build from it`,
    );
  }
}
