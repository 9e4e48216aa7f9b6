import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readConfigVars, vendorBaseUrl } from "../../src/core/config-vars";

test("reads only our config vars from ENV_DIR, without the trailing newline", () => {
  const dir = mkdtempSync(join(tmpdir(), "env-"));
  writeFileSync(join(dir, "NGINX_VERSION"), "1.26\n");
  writeFileSync(join(dir, "SECRET_KEY"), "do-not-read");
  const c = readConfigVars(dir);
  assert.deepEqual(c, { NGINX_VERSION: "1.26" });
});

test("a missing ENV_DIR is a clear error; none given is fine", () => {
  assert.throws(() => readConfigVars("/nonexistent/env"), /ENV_DIR \/nonexistent\/env is not a directory/);
  assert.deepEqual(readConfigVars(undefined), {});
});

test("BUILDPACK_VENDOR_URL must be http(s), and its value is never echoed", () => {
  assert.equal(vendorBaseUrl({ BUILDPACK_VENDOR_URL: "http://127.0.0.1:9/x/" }, "https://a"), "http://127.0.0.1:9/x");
  assert.equal(vendorBaseUrl({}, "https://example.com/r"), "https://example.com/r");
  assert.throws(
    () => vendorBaseUrl({ BUILDPACK_VENDOR_URL: "not a url secret123" }, "https://a"),
    (e: Error) => /must be an http or https URL/.test(e.message) && !/secret123/.test(e.message),
  );
  assert.throws(() => vendorBaseUrl({ BUILDPACK_VENDOR_URL: "ftp://h/x" }, "https://a"), /http or https/);
});
