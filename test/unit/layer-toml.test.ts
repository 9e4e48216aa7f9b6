import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatLayerToml, readLayerMetadata } from "../../src/cnb/layer-toml";

test("layer metadata round-trips, and a restored file without [types] still reads", () => {
  const dir = mkdtempSync(join(tmpdir(), "layer-"));
  const meta = { "nginx.sha256": "ab", stack: "heroku-24" };
  const text = formatLayerToml({ types: { launch: true, build: false, cache: true }, metadata: meta });
  assert.match(text, /^\[types\]\nlaunch = true\nbuild = false\ncache = true\n/);
  writeFileSync(join(dir, "a.toml"), text);
  assert.deepEqual(readLayerMetadata(join(dir, "a.toml")), meta);
  writeFileSync(join(dir, "b.toml"), text.replace(/\[types\][^[]*/, ""));
  assert.deepEqual(readLayerMetadata(join(dir, "b.toml")), meta);
  assert.equal(readLayerMetadata(join(dir, "none.toml")), null);
});
