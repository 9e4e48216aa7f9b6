/**
 * Writes each native artifact's CycloneDX 1.5 SBOM from the manifest, the patch files and the
 * advisory ledger: every component with its version and source sha256, the patches applied to it
 * in order with the ids each names in its header, and every advisory of the ledger with its VEX
 * analysis (resolved by a patch, or not affected and why). Byte-identical for the same inputs,
 * like the artifacts that carry it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Artifact, Library, Manifest } from "../src/core/manifest";
import type { CdxBom, CdxComponent } from "../src/core/sbom";
import { idsOfPatch, type Ledger, vulnerabilitiesOf } from "./advisories";

function component(
  type: CdxComponent["type"],
  name: string,
  version: string,
  source: { url: string; sha256: string },
  patches: string[],
  patchDir: string,
): CdxComponent {
  const c: CdxComponent = {
    type,
    "bom-ref": `${name}@${version}`,
    name,
    version,
    purl: `pkg:generic/${name}@${encodeURIComponent(version)}?download_url=${encodeURIComponent(source.url)}`,
    externalReferences: [
      { type: "source-distribution", url: source.url, hashes: [{ alg: "SHA-256", content: source.sha256 }] },
    ],
  };
  if (patches.length) {
    c.pedigree = {
      patches: patches.map((p) => {
        const ids = idsOfPatch(readFileSync(join(patchDir, p), "utf8"));
        return {
          type: p.startsWith("debian/") ? "backport" : "unofficial",
          diff: { url: p },
          ...(ids.length ? { resolves: ids.map((id) => ({ type: "security", id })) } : {}),
        };
      }),
    };
  }
  return c;
}

/**
 * The SBOM of one native artifact. `properties` carries build facts read off the built binary
 * (nginx's configure arguments), so that a test can hold the binary and its SBOM to each other.
 */
export function artifactSbom(
  artifact: Artifact,
  manifest: Manifest,
  patchDir: string,
  ledger: Ledger,
  properties: { name: string; value: string }[],
): CdxBom {
  const libs = artifact.linked.map((n) => manifest.libraries.find((l) => l.name === n) as Library);
  const main = component(
    "application",
    artifact.name,
    artifact.version,
    artifact.source,
    [...(artifact.debian?.patches ?? []), ...artifact.patches],
    patchDir,
  );
  if (properties.length) main.properties = properties;
  const components = libs.map((l) =>
    component("library", l.name, l.version, l.source, [...l.debian.patches, ...l.patches], patchDir),
  );
  const vulnerabilities = vulnerabilitiesOf(
    ledger,
    [main, ...components].map((c) => ({ name: c.name, ref: c["bom-ref"] })),
  );
  const body = {
    bomFormat: "CycloneDX" as const,
    specVersion: "1.5",
    version: 1,
    metadata: {
      timestamp: new Date(manifest.sourceDateEpoch * 1000).toISOString(),
      tools: { components: [{ type: "application", name: "heroku-buildpack-nginx-pgbouncer vendor build" }] },
      component: main,
    },
    components,
    dependencies: [
      { ref: main["bom-ref"], dependsOn: components.map((c) => c["bom-ref"]) },
      ...components.map((c) => ({ ref: c["bom-ref"], dependsOn: [] })),
    ],
    vulnerabilities,
  };
  // A serial number is required to be unique per BOM; derived from the content it stays reproducible.
  const h = createHash("sha256").update(JSON.stringify(body)).digest("hex");
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return { ...body, serialNumber: `urn:uuid:${uuid}` };
}
