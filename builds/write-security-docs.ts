/**
 * `npm run docs` (its security half): writes SECURITY.md's security table and its sweep line from
 * builds/advisories.json. test/unit/advisories.test.ts fails when either is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lastSweep, readLedger, withSecurityTable } from "./advisories";

const root = process.cwd();
const ledger = readLedger(join(root, "builds"));
const securityPath = join(root, "SECURITY.md");
// The sweep date first, everywhere: the table's own "Last sweep" line is then rewritten whole, so
// only the Status section's line keeps this replacement.
const swept = readFileSync(securityPath, "utf8").replace(
  /Last sweep: \d{4}-\d{2}-\d{2}/g,
  `Last sweep: ${lastSweep(ledger)}`,
);
const security = withSecurityTable(swept, ledger);
if (security === null) {
  console.error("write-security-docs: SECURITY.md has no security-table markers (see builds/advisories.ts)");
  process.exit(1);
}
writeFileSync(securityPath, security);
