import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildInputsKey, checkPatchLists, checkSourceSha256, seriesOf } from "../../builds/recipe";
import { validateManifest } from "../../src/core/manifest";
import { sha256Text } from "../../src/core/sha256";

const vendorDir = join(process.cwd(), "builds");
const raw = () => JSON.parse(readFileSync(join(process.cwd(), "vendor-manifest.json"), "utf8"));

test("the manifest's patch lists are exactly what the build applies, and every patch exists", () => {
  const m = validateManifest(raw());
  checkPatchLists(m, vendorDir);
  for (const a of m.artifacts.filter((x) => x.name !== "node")) {
    assert.ok(a.patches.length >= 1, `${a.name} carries our SIGTERM patch`);
    for (const p of [...a.patches, ...(a.debian?.patches ?? [])])
      assert.ok(existsSync(join(vendorDir, "patches", p)), p);
  }
  assert.ok(seriesOf(vendorDir, "debian/pgbouncer").some((p) => /CVE-/.test(p)));
});

test("a patch list that drifts from its series file is refused", () => {
  const r = raw();
  r.artifacts.find((a: { name: string }) => a.name === "pgbouncer").patches = [];
  assert.throws(() => checkPatchLists(validateManifest(r), vendorDir), /pgbouncer \(ours\)/);
});

test("a source whose sha256 differs from the pin is refused and deleted", () => {
  const dir = mkdtempSync(join(tmpdir(), "src-"));
  const f = join(dir, "x_1.0.orig.tar.gz");
  writeFileSync(f, "tampered");
  assert.throws(() => checkSourceSha256(f, "0".repeat(64)), /x_1\.0\.orig\.tar\.gz has sha256 .* refusing/);
  assert.equal(existsSync(f), false);
  writeFileSync(f, "good");
  checkSourceSha256(f, sha256Text("good"));
});

test("the build cache key changes with the inputs but not with the output pins", () => {
  const m = validateManifest(raw());
  const k = buildInputsKey(m, vendorDir);
  const outputs = validateManifest(raw());
  outputs.artifacts[0].sha256 = "f".repeat(64);
  assert.equal(buildInputsKey(outputs, vendorDir), k);
  const inputs = validateManifest(raw());
  inputs.libraries[0].source.sha256 = "e".repeat(64);
  assert.notEqual(buildInputsKey(inputs, vendorDir), k);
});
