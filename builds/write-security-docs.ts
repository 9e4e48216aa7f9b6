/**
 * `npm run docs` (its security half): writes the README's security table and SECURITY.md's sweep
 * line from builds/advisories.json. test/unit/advisories.test.ts fails when either is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lastSweep, readLedger, withSecurityTable } from "./advisories";

const root = process.cwd();
const ledger = readLedger(join(root, "builds"));
const readmePath = join(root, "README.md");
const readme = withSecurityTable(readFileSync(readmePath, "utf8"), ledger);
if (readme === null) {
  console.error("write-security-docs: README.md has no security-table markers (see builds/advisories.ts)");
  process.exit(1);
}
writeFileSync(readmePath, readme);
const securityPath = join(root, "SECURITY.md");
writeFileSync(
  securityPath,
  readFileSync(securityPath, "utf8").replace(/Last sweep: \d{4}-\d{2}-\d{2}/, `Last sweep: ${lastSweep(ledger)}`),
);
