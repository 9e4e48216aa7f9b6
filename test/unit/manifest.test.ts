import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { UserError } from "../../src/core/errors";
import { archOf, type Manifest, SUPPORTED_STACKS, selectArtifacts, validateManifest } from "../../src/core/manifest";
import { nodePinsScript } from "../../src/core/node-pins";

const root = join(process.cwd());
const raw = () => JSON.parse(readFileSync(join(root, "vendor-manifest.json"), "utf8"));

test("the committed manifest is valid and maps every supported stack", () => {
  const m = validateManifest(raw());
  for (const s of SUPPORTED_STACKS) assert.ok(m.stacks[s].length >= 4, s);
});

test("cedar-14 gets Node 16 and current stacks get Node 22", () => {
  const m = validateManifest(raw());
  const node = (s: string) => selectArtifacts(m, s).find((a) => a.name === "node")!.version;
  assert.match(node("cedar-14"), /^16\./);
  for (const s of ["heroku-20", "heroku-22", "heroku-24", "heroku-26"]) assert.match(node(s), /^22\./);
});

test("unknown and missing STACK are clear errors naming the supported stacks", () => {
  const m = validateManifest(raw());
  assert.throws(
    () => selectArtifacts(m, "heroku-18"),
    (e: UserError) => /not supported/.test(e.message) && /heroku-24/.test(e.hint!),
  );
  assert.throws(
    () => selectArtifacts(m, ""),
    (e: UserError) => /STACK is not set/.test(e.message),
  );
});

function withTwoNginx(): Manifest {
  const r = raw();
  const nginx = r.artifacts.find((a: { name: string }) => a.name === "nginx");
  r.artifacts.push({ ...nginx, version: "1.24.0", file: "nginx-1.24.0-linux-x64.tar.gz" });
  r.stacks["heroku-24"].push("nginx-1.24.0-linux-x64.tar.gz");
  return validateManifest(r);
}

test("the newest version is the default; a range picks among pinned versions", () => {
  const m = withTwoNginx();
  assert.equal(selectArtifacts(m, "heroku-24").find((a) => a.name === "nginx")!.version, "1.26.3");
  assert.equal(selectArtifacts(m, "heroku-24", { nginx: "~1.24" }).find((a) => a.name === "nginx")!.version, "1.24.0");
});

test("a range nothing satisfies lists the versions there are", () => {
  const m = withTwoNginx();
  assert.throws(
    () => selectArtifacts(m, "heroku-24", { nginx: "^2" }),
    (e: UserError) => /NGINX_VERSION=\^2/.test(e.message) && /1\.26\.3, 1\.24\.0/.test(e.hint!),
  );
  assert.throws(
    () => selectArtifacts(m, "heroku-24", { nginx: "latest!" }),
    (e: UserError) => /not a version range/.test(e.message),
  );
});

test("schema errors name the place", () => {
  const r = raw();
  r.artifacts[0].sha256 = "abc";
  assert.throws(() => validateManifest(r), /artifacts\[0\].*sha256/);
  const r2 = raw();
  delete r2.stacks["cedar-14"];
  assert.throws(() => validateManifest(r2), /no entry for cedar-14/);
  const r3 = raw();
  r3.stacks["heroku-24"].push("missing.tar.gz");
  assert.throws(() => validateManifest(r3), /stacks\.heroku-24: names missing\.tar\.gz/);
  const r4 = raw();
  r4.stacks["heroku-22"] = r4.stacks["heroku-22"].filter((f: string) => !f.startsWith("pgbouncer"));
  assert.throws(() => selectArtifacts(validateManifest(r4), "heroku-22"), /no pgbouncer artifact for heroku-22/);
});

test("arm64: heroku-24 and heroku-26 get the linux-arm64 binaries and Node; other stacks say where arm64 is served", () => {
  const m = validateManifest(raw());
  for (const s of ["heroku-24", "heroku-26"]) {
    const picked = selectArtifacts(m, s, {}, "arm64");
    assert.deepEqual(picked.map((a) => `${a.name} ${a.platform}`).sort(), [
      "nginx linux-arm64",
      "node linux-arm64",
      "pgbouncer linux-arm64",
      "stunnel linux-arm64",
    ]);
    assert.ok(
      selectArtifacts(m, s).every((a) => a.platform === "linux-x64"),
      `${s} amd64 stays x64`,
    );
  }
  assert.throws(
    () => selectArtifacts(m, "heroku-22", {}, "arm64"),
    (e: UserError) =>
      e.message === "heroku-22 has no arm64 binaries here" &&
      e.hint === "arm64 builds are supported on heroku-24, heroku-26.",
  );
});

test("architecture names: CNB's, uname -m's and Node's; a platform the manifest does not know is refused", () => {
  assert.equal(archOf("amd64"), "amd64");
  assert.equal(archOf("x86_64"), "amd64");
  assert.equal(archOf("x64"), "amd64");
  assert.equal(archOf("aarch64"), "arm64");
  assert.equal(archOf("arm64"), "arm64");
  assert.equal(archOf("riscv64"), undefined);
  const r = raw();
  r.artifacts[0].platform = "linux-riscv64";
  assert.throws(() => validateManifest(r), /"platform" must be one of linux-x64, linux-arm64/);
});

test("node pins: one per stack and build machine architecture, none where there is no Node", () => {
  const pins = nodePinsScript(validateManifest(raw()));
  assert.match(pins, /^NODE_PIN_heroku_24_amd64='node-22\.[0-9.]+-linux-x64\.tar\.gz [0-9a-f]{64} [0-9]+'$/m);
  assert.match(pins, /^NODE_PIN_heroku_24_arm64='node-22\.[0-9.]+-linux-arm64\.tar\.gz [0-9a-f]{64} [0-9]+'$/m);
  assert.match(pins, /^NODE_PIN_cedar_14_amd64='node-16\./m);
  assert.doesNotMatch(pins, /^NODE_PIN_heroku_22_arm64=/m);
  assert.match(pins, /^NODE_PINS_ARM64_HINT='arm64 builds are supported on heroku-24, heroku-26\.'$/m);
});
