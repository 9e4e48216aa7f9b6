import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readLedger } from "../../builds/advisories";
import { artifactSbom } from "../../builds/sbom";
import { validateManifest } from "../../src/core/manifest";
import { checkArtifactSbom, layerBom, SBOM_FILE } from "../../src/core/sbom";

const patchDir = join(process.cwd(), "builds/patches");
const ledger = readLedger(join(process.cwd(), "builds"));
const manifest = () => {
  const m = validateManifest(JSON.parse(readFileSync(join(process.cwd(), "vendor-manifest.json"), "utf8")));
  for (const a of m.artifacts) if (a.name !== "node") a.sbom = SBOM_FILE;
  return m;
};
const nginxOf = (m: ReturnType<typeof manifest>) => m.artifacts.find((a) => a.name === "nginx")!;

/** The artifact's SBOM as the vendor build writes it, in a directory of its own. */
function unpacked(m: ReturnType<typeof manifest>): string {
  const dir = mkdtempSync(join(tmpdir(), "sbom-"));
  writeFileSync(join(dir, SBOM_FILE), JSON.stringify(artifactSbom(nginxOf(m), m, patchDir, ledger, [])));
  return dir;
}

test("nginx's SBOM lists every linked library, every patch in order, and each CVE our patches fix", () => {
  const m = manifest();
  const bom = artifactSbom(nginxOf(m), m, patchDir, ledger, [{ name: "nginx:configure-arguments", value: "--x" }]);
  assert.equal(bom.metadata.component.name, "nginx");
  assert.deepEqual(bom.components.map((c) => c.name).sort(), [...nginxOf(m).linked].sort());
  assert.deepEqual(
    bom.metadata.component.pedigree!.patches.map((p) => p.diff.url),
    nginxOf(m).patches,
  );
  const vulns = bom.vulnerabilities as { id: string; analysis: { state: string } }[];
  const ids = vulns.map((v) => v.id);
  for (const id of [
    "CVE-2026-42945",
    "CVE-2026-9256",
    "CVE-2026-42533",
    "CVE-2026-42934",
    "CVE-2026-48142",
    "CVE-2026-93479",
  ])
    assert.ok(ids.includes(id), id);
  assert.ok(!ids.includes("CVE-2026-6664"), "pgbouncer's CVEs are not nginx's");
  assert.ok(ids.includes("CVE-2026-63072"), "OpenSSL's, a library nginx links, are");
  assert.equal(
    vulns.find((v) => v.id === "CVE-2026-123007")?.analysis.state,
    "not_affected",
    "an advisory for code not compiled is there, as not affected",
  );
  const pedigree = bom.components.find((c) => c.name === "openssl")!.pedigree!.patches;
  assert.ok(
    pedigree.some((p) => p.resolves?.some((r) => r.id === "CVE-2026-63075")),
    "the QUIC ACK patch resolves CVE-2026-63075",
  );
  assert.equal(
    JSON.stringify(artifactSbom(nginxOf(m), m, patchDir, ledger, [])),
    JSON.stringify(artifactSbom(nginxOf(m), m, patchDir, ledger, [])),
    "reproducible",
  );
});

test("an SBOM that agrees with the manifest passes; one that drifts is refused with the difference", () => {
  const m = manifest();
  checkArtifactSbom(nginxOf(m), m, unpacked(m));
  const patched = manifest();
  nginxOf(patched).patches = nginxOf(patched).patches.slice(0, 1);
  assert.throws(
    () => checkArtifactSbom(nginxOf(patched), patched, unpacked(m)),
    /nginx-.*SBOM disagrees.*nginx's patches are/,
  );
  const bumped = manifest();
  bumped.libraries.find((l) => l.name === "openssl")!.version = "9.9.9";
  assert.throws(() => checkArtifactSbom(nginxOf(bumped), bumped, unpacked(m)), /lacks openssl@9\.9\.9/);
  assert.throws(
    () => checkArtifactSbom(nginxOf(m), m, mkdtempSync(join(tmpdir(), "none-"))),
    /carries no sbom\.cdx\.json/,
  );
});

test("a layer's BOM holds each artifact once and a shared library once", () => {
  const m = manifest();
  const boms = m.artifacts.filter((a) => a.name !== "node").map((a) => artifactSbom(a, m, patchDir, ledger, []));
  const layer = layerBom("nginx-pgbouncer", boms);
  const names = layer.components.map((c) => c.name);
  assert.equal(names.filter((n) => n === "openssl").length, 1);
  for (const n of ["nginx", "pgbouncer", "stunnel", "libevent", "pcre2"]) assert.ok(names.includes(n), n);
  const refs = (layer.dependencies ?? []).map((d) => d.ref);
  assert.equal(new Set(refs).size, refs.length, "one dependency entry per ref");
});
