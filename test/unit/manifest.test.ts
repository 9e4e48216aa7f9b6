import { strict as assert } from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import { test } from "node:test";
import { Manifest, SUPPORTED_STACKS, selectArtifacts, validateManifest } from "../../src/core/manifest";
import { UserError } from "../../src/core/errors";

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
  assert.throws(() => selectArtifacts(m, "heroku-18"), (e: UserError) => /not supported/.test(e.message) && /heroku-24/.test(e.hint!));
  assert.throws(() => selectArtifacts(m, ""), (e: UserError) => /STACK is not set/.test(e.message));
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
  assert.throws(() => selectArtifacts(m, "heroku-24", { nginx: "latest!" }), (e: UserError) => /not a version range/.test(e.message));
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
