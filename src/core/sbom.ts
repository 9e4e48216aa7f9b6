import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BuildpackFault } from "./errors";
import type { Artifact, Manifest } from "./manifest";

/** Where each native artifact carries its CycloneDX SBOM, relative to the unpacked artifact. */
export const SBOM_FILE = "sbom.cdx.json";

/** A CycloneDX 1.5 component, as far as we write and read it. */
export interface CdxComponent {
  type: "application" | "library";
  "bom-ref": string;
  name: string;
  version: string;
  purl?: string;
  externalReferences?: { type: string; url: string; hashes?: { alg: string; content: string }[] }[];
  pedigree?: { patches: { type: string; diff: { url: string }; resolves?: { type: string; id: string }[] }[] };
  properties?: { name: string; value: string }[];
}

export interface CdxBom {
  bomFormat: "CycloneDX";
  specVersion: string;
  serialNumber?: string;
  version: number;
  metadata: { timestamp?: string; component: CdxComponent; tools?: unknown };
  components: CdxComponent[];
  dependencies?: { ref: string; dependsOn: string[] }[];
  vulnerabilities?: unknown[];
}

/** What the manifest says an artifact is made of: its own name and version, each linked library, every patch in order. */
export interface SbomFacts {
  component: string;
  libraries: string[];
  patches: Record<string, string[]>;
}

export function sbomFacts(artifact: Artifact, manifest: Manifest): SbomFacts {
  const libraries = artifact.linked.map((name) => {
    const lib = manifest.libraries.find((l) => l.name === name);
    return `${name}@${lib?.version ?? "?"}`;
  });
  const patches: Record<string, string[]> = {
    [artifact.name]: [...(artifact.debian?.patches ?? []), ...artifact.patches],
  };
  for (const name of artifact.linked) {
    const lib = manifest.libraries.find((l) => l.name === name);
    patches[name] = lib ? [...lib.debian.patches, ...lib.patches] : [];
  }
  return { component: `${artifact.name}@${artifact.version}`, libraries: libraries.sort(), patches };
}

/** The same facts read back from an SBOM. */
export function factsOfBom(bom: CdxBom): SbomFacts {
  const id = (c: CdxComponent) => `${c.name}@${c.version}`;
  const patchesOf = (c: CdxComponent) => (c.pedigree?.patches ?? []).map((p) => p.diff.url);
  const patches: Record<string, string[]> = { [bom.metadata.component.name]: patchesOf(bom.metadata.component) };
  for (const c of bom.components) patches[c.name] = patchesOf(c);
  return { component: id(bom.metadata.component), libraries: bom.components.map(id).sort(), patches };
}

/** The differences between what the manifest pins and what the SBOM says, one line each. */
export function sbomDifferences(expected: SbomFacts, actual: SbomFacts): string[] {
  const out: string[] = [];
  if (expected.component !== actual.component)
    out.push(`it describes ${actual.component}, the manifest pins ${expected.component}`);
  const missing = expected.libraries.filter((l) => !actual.libraries.includes(l));
  const extra = actual.libraries.filter((l) => !expected.libraries.includes(l));
  if (missing.length) out.push(`it lacks ${missing.join(", ")}`);
  if (extra.length) out.push(`it lists ${extra.join(", ")}, which the manifest does not link`);
  for (const [name, list] of Object.entries(expected.patches)) {
    const got = actual.patches[name];
    if (got && JSON.stringify(got) !== JSON.stringify(list))
      out.push(`${name}'s patches are [${got.join(", ")}], the manifest's [${list.join(", ")}]`);
  }
  return out;
}

/**
 * For an unpacked artifact whose manifest entry links an SBOM: fails when the SBOM is missing or
 * disagrees with the manifest.
 */
export function checkArtifactSbom(artifact: Artifact, manifest: Manifest, dir: string): void {
  if (!artifact.sbom) return;
  const path = join(dir, artifact.sbom);
  const hint =
    "The artifact and vendor-manifest.json were not built together: rebuild with `npm run vendor:build -- --update-manifest`.";
  if (!existsSync(path)) throw new BuildpackFault(`${artifact.file} carries no ${artifact.sbom}`, hint);
  let bom: CdxBom;
  try {
    bom = JSON.parse(readFileSync(path, "utf8")) as CdxBom;
    if (bom.bomFormat !== "CycloneDX" || !bom.metadata?.component || !Array.isArray(bom.components))
      throw new Error("not a CycloneDX BOM");
  } catch (e) {
    throw new BuildpackFault(`${artifact.file}: ${artifact.sbom} is unreadable (${(e as Error).message})`, hint);
  }
  const diffs = sbomDifferences(sbomFacts(artifact, manifest), factsOfBom(bom));
  if (diffs.length)
    throw new BuildpackFault(
      `${artifact.file}: its SBOM disagrees with vendor-manifest.json: ${diffs.join("; ")}`,
      hint,
    );
}

/**
 * One BOM for a CNB layer that holds several artifacts: each artifact's own component and its
 * libraries (a library shared by two appears once), and every CVE fix recorded.
 */
export function layerBom(layerName: string, boms: CdxBom[]): CdxBom {
  const byRef = new Map<string, CdxComponent>();
  for (const b of boms) for (const c of [b.metadata.component, ...b.components]) byRef.set(c["bom-ref"], c);
  const ref = layerName;
  // CycloneDX wants one dependency entry per ref: a shared library's appears in each artifact's BOM.
  const deps = new Map<string, Set<string>>([[ref, new Set(boms.map((b) => b.metadata.component["bom-ref"]))]]);
  for (const d of boms.flatMap((b) => b.dependencies ?? [])) {
    const set = deps.get(d.ref) ?? new Set<string>();
    for (const x of d.dependsOn) set.add(x);
    deps.set(d.ref, set);
  }
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    version: 1,
    metadata: {
      timestamp: boms[0]?.metadata.timestamp,
      component: { type: "application", "bom-ref": ref, name: layerName, version: "layer" },
    },
    components: [...byRef.values()],
    dependencies: [...deps].map(([r, on]) => ({ ref: r, dependsOn: [...on] })),
    vulnerabilities: boms.flatMap((b) => b.vulnerabilities ?? []),
  };
}

/** The SBOM of an unpacked artifact, or null when its manifest entry links none. */
export function readArtifactSbom(artifact: Artifact, dir: string): CdxBom | null {
  return artifact.sbom ? (JSON.parse(readFileSync(join(dir, artifact.sbom), "utf8")) as CdxBom) : null;
}
