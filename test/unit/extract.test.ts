import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { extractArtifact } from "../../src/core/extract";

function tarball(make: (dir: string) => string[], extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "tar-"));
  const entries = make(dir);
  const out = join(dir, "out.tar.gz");
  execFileSync("tar", ["-czf", out, ...extra, "-C", dir, ...entries]);
  return out;
}

test("unpacks files and keeps their modes", async () => {
  const t = tarball((d) => {
    mkdirSync(join(d, "bin"));
    writeFileSync(join(d, "bin/tool"), "#!/bin/sh\n", { mode: 0o755 });
    return ["bin"];
  });
  const dest = mkdtempSync(join(tmpdir(), "dest-"));
  const files = await extractArtifact(t, dest);
  assert.deepEqual(files, ["bin/tool"]);
  assert.equal(statSync(join(dest, "bin/tool")).mode & 0o777, 0o755);
});

test("refuses an entry that climbs out of the destination, writing nothing", async () => {
  const t = tarball(
    (d) => {
      writeFileSync(join(d, "evil"), "x");
      return ["evil"];
    },
    ["--transform", "s,^,../,"],
  );
  const dest = join(mkdtempSync(join(tmpdir(), "dest-")), "inner");
  await assert.rejects(extractArtifact(t, dest), /path escapes/);
  assert.equal(existsSync(join(dest, "..", "evil")), false);
});

test("refuses links", async () => {
  const t = tarball((d) => {
    symlinkSync("/etc/passwd", join(d, "link"));
    return ["link"];
  });
  await assert.rejects(
    extractArtifact(t, mkdtempSync(join(tmpdir(), "dest-"))),
    /SymbolicLink entries are not allowed/,
  );
});
