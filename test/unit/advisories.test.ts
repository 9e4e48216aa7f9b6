import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  idsOfPatch,
  type Ledger,
  ledgerProblems,
  modulesOfNgxModulesC,
  readLedger,
  securityTable,
  TABLE_BEGIN,
  TABLE_END,
  unreviewedModules,
  vulnerabilitiesOf,
  withSecurityTable,
} from "../../builds/advisories";
import { validateManifest } from "../../src/core/manifest";

const root = process.cwd();
const patchDir = join(root, "builds/patches");
const manifest = () => validateManifest(JSON.parse(readFileSync(join(root, "vendor-manifest.json"), "utf8")));
const ledger = (): Ledger => readLedger(join(root, "builds"));
const entry = (l: Ledger, id: string) => l.components.flatMap((c) => c.advisories).find((a) => a.ids.includes(id))!;
const without = (l: Ledger, id: string): Ledger => ({
  components: l.components.map((c) => ({ ...c, advisories: c.advisories.filter((a) => !a.ids.includes(id)) })),
});

test("the ledger agrees with the build: every component swept at the version built, every patch's ids recorded", () => {
  assert.deepEqual(ledgerProblems(ledger(), manifest(), patchDir), []);
});

test("an id a patch header names, removed from the ledger, is drift", () => {
  const problems = ledgerProblems(without(ledger(), "CVE-2026-19888"), manifest(), patchDir);
  assert.ok(
    problems.some((p) => /0002-CVE-2026-19888.* names CVE-2026-19888, which the ledger lacks/.test(p)),
    problems.join("\n"),
  );
});

test("a patched entry whose patch is gone, or not applied, or whose header does not name it, is drift", () => {
  const gone = ledger();
  entry(gone, "CVE-2026-6669").patches = ["ours/pgbouncer/0099-gone.patch"];
  assert.ok(ledgerProblems(gone, manifest(), patchDir).some((p) => /0099-gone\.patch, which does not exist/.test(p)));
  const elsewhere = ledger();
  entry(elsewhere, "CVE-2026-6669").patches = ["ours/nginx/0002-CVE-2026-42945-rewrite-reset-is-args.patch"];
  const problems = ledgerProblems(elsewhere, manifest(), patchDir);
  assert.ok(
    problems.some((p) => /which pgbouncer's build does not apply/.test(p)),
    problems.join("\n"),
  );
  const m = manifest();
  for (const a of m.artifacts.filter((a) => a.name === "pgbouncer"))
    a.patches = a.patches.filter((p) => !p.includes("6669"));
  assert.ok(
    ledgerProblems(ledger(), m, patchDir).some((p) =>
      /0004-CVE-2026-6669.*which pgbouncer's build does not apply/.test(p),
    ),
  );
});

test("a component built at another version than swept, or not swept at all, is drift; so is an entry without evidence or reason", () => {
  const m = manifest();
  m.libraries.find((l) => l.name === "openssl")!.version = "3.5.9";
  assert.ok(
    ledgerProblems(ledger(), m, patchDir).some((p) =>
      /openssl: the ledger was swept for 3\.5\.7, the manifest builds 3\.5\.9/.test(p),
    ),
  );
  const l = ledger();
  l.components = l.components.filter((c) => c.name !== "libevent");
  assert.ok(ledgerProblems(l, manifest(), patchDir).some((p) => /libevent .* has no entry in the ledger/.test(p)));
  const bare = ledger();
  entry(bare, "CVE-2026-123007").evidence = "";
  delete entry(bare, "CVE-2026-35189").why;
  const problems = ledgerProblems(bare, manifest(), patchDir);
  assert.ok(problems.some((p) => /CVE-2026-123007: no evidence/.test(p)));
  assert.ok(problems.some((p) => /CVE-2026-35189: open needs a why/.test(p)));
});

test("an nginx module compiled but never reviewed is named", () => {
  const c = `ngx_module_t *ngx_modules[] = {};\nchar *ngx_module_names[] = {\n    "ngx_core_module",\n    "ngx_http_v2_module",\n    NULL\n};\n`;
  assert.deepEqual(modulesOfNgxModulesC(c), ["ngx_core_module", "ngx_http_v2_module"]);
  assert.deepEqual(unreviewedModules(ledger(), modulesOfNgxModulesC(c)), ["ngx_http_v2_module"]);
  assert.throws(() => modulesOfNgxModulesC("char *ngx_module_names[] = { NULL };"), /no module names found/);
});

test("SECURITY.md's security table is the ledger's, and its Status section states the sweep", () => {
  const security = readFileSync(join(root, "SECURITY.md"), "utf8");
  assert.equal(withSecurityTable(security, ledger()), security, "SECURITY.md's table is stale: run npm run docs");
  const l = without(ledger(), "CVE-2026-123007");
  assert.notEqual(withSecurityTable(security, l), security, "a removed entry changes the table");
  const table = securityTable(ledger());
  for (const id of [
    "CVE-2026-19888",
    "CVE-2026-6668",
    "CVE-2026-6669",
    "CVE-2026-93479",
    "CVE-2026-35189",
    "CVE-2026-40200",
    "CVE-2026-63075",
  ])
    assert.ok(table.includes(id), id);
  // The table has a sweep line of its own: look for the Status section's outside it.
  const outside = security.slice(0, security.indexOf(TABLE_BEGIN)) + security.slice(security.indexOf(TABLE_END));
  assert.match(outside, new RegExp(`last sweep: ${/Last sweep: (\d{4}-\d{2}-\d{2})/.exec(table)![1]}`, "i"));
});

test("each advisory becomes a VEX entry: resolved with pedigree, or not affected with the reason, or exploitable with the plan", () => {
  const v = vulnerabilitiesOf(ledger(), [
    { name: "pgbouncer", ref: "pgbouncer@1.24.1" },
    { name: "nginx", ref: "nginx@1.26.3" },
    { name: "openssl", ref: "openssl@3.5.7" },
  ]);
  const of = (id: string) => v.find((x) => x.id === id)!;
  assert.equal(of("CVE-2026-19888").analysis.state, "resolved_with_pedigree");
  assert.deepEqual(of("CVE-2026-19888").affects, [{ ref: "pgbouncer@1.24.1" }]);
  assert.equal(of("CVE-2026-123007").analysis.state, "not_affected");
  assert.equal(of("CVE-2026-123007").analysis.justification, "code_not_present");
  assert.equal(of("CVE-2026-72897").analysis.justification, "code_not_reachable");
  assert.equal(of("CVE-2026-35189").analysis.state, "exploitable");
  assert.equal(of("CVE-2026-125283").analysis.state, "in_triage", "open, and not known to reach us");
  assert.equal(of("CVE-2026-97205").analysis.justification, "code_not_present");
  assert.ok(!v.some((x) => x.id === "CVE-2026-27171"), "zlib's are not among these components'");
});

test("a patch's ids come from its header, not from ids its diff happens to quote", () => {
  assert.deepEqual(
    idsOfPatch("fix (CVE-2026-1111, GHSA-abcd-efgh-ijkl)\n\n--- a/x.c\n+++ b/x.c\n+/* CVE-2020-9999 */\n"),
    ["CVE-2026-1111", "GHSA-abcd-efgh-ijkl"],
  );
  assert.deepEqual(idsOfPatch("no id here\n--- a/x\n"), []);
});
