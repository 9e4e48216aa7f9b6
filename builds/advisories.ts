/**
 * The advisory ledger (builds/advisories.json): for every component we compile, each advisory
 * published against it since the version we build, with our status and its evidence. SECURITY.md's
 * security table and sweep line, and each SBOM's CycloneDX `vulnerabilities` are all
 * made from it, and `ledgerProblems` says where the ledger and the tree have drifted apart.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Manifest } from "../src/core/manifest";
import { filesUnder } from "./recipe";

/**
 * - patched: a named patch file (or several) under builds/patches fixes it;
 * - not-compiled: the code is left out of our build (configure options), so the binary lacks it;
 * - not-affected: the code is compiled but the flaw is absent or unreachable (say why);
 * - open: not fixed yet; `plan` says what will fix it.
 */
export type AdvisoryStatus = "patched" | "not-compiled" | "not-affected" | "open";
export const STATUSES: readonly AdvisoryStatus[] = ["patched", "not-compiled", "not-affected", "open"];

export interface Advisory {
  /** CVE or GHSA ids; empty for an upstream fix published without one (`ref` names it). */
  ids: string[];
  /** For an advisory with no id: the upstream change (commit or release note) it refers to. */
  ref?: string;
  /** What the flaw is and where, in a few words. */
  what: string;
  /** The upstream release that fixes it. */
  fixedIn: string;
  status: AdvisoryStatus;
  /** patched: the patch files (paths under builds/patches) that fix it. */
  patches?: string[];
  /** not-compiled, not-affected: why; open: the plan. */
  why?: string;
  /** What shows the status holds: a test, a command and its result, the code read. */
  evidence: string;
  /** The day the status was last checked. */
  checked: string;
  /** not-affected: why, in VEX's words (code_not_reachable when absent). */
  justification?:
    | "code_not_present"
    | "code_not_reachable"
    | "requires_configuration"
    | "protected_by_mitigating_factor";
  /** open: whether it reaches our build is itself not yet known (VEX in_triage, not exploitable). */
  triage?: boolean;
}

export interface LedgerComponent {
  /** The manifest's artifact or library name. */
  name: string;
  /** The version we build; must be the manifest's. */
  version: string;
  /** The newest upstream release whose advisories were read. */
  reviewedThrough: string;
  /** The day of the last sweep of this component's advisories. */
  swept: string;
  /** Where the advisories were read. */
  sources: string[];
  /** nginx: each module we compile, reviewed against its advisories (module name as in ngx_modules.c). */
  modules?: string[];
  advisories: Advisory[];
}

export interface Ledger {
  components: LedgerComponent[];
}

export const LEDGER_FILE = "advisories.json";

export function readLedger(buildsDir: string): Ledger {
  return JSON.parse(readFileSync(join(buildsDir, LEDGER_FILE), "utf8")) as Ledger;
}

/** The date of the newest sweep: the one SECURITY.md states. */
export function lastSweep(ledger: Ledger): string {
  return ledger.components
    .map((c) => c.swept)
    .sort()
    .slice(-1)[0];
}

const ID = /\b(?:CVE-\d{4}-\d{4,}|GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})\b/g;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The advisory ids a patch says it fixes, from its header only (a diff may quote other ids). */
export function idsOfPatch(text: string): string[] {
  const header = text.split(/^(?:---|diff --git|Index:) /m)[0];
  return [...new Set(header.match(ID) ?? [])];
}

/** Every patch the manifest applies, by component name. */
function appliedPatches(manifest: Manifest): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of manifest.libraries) out.set(l.name, [...l.debian.patches, ...l.patches]);
  for (const a of manifest.artifacts)
    if (a.name !== "node") out.set(a.name, [...(a.debian?.patches ?? []), ...a.patches]);
  return out;
}

/**
 * Where the ledger and the tree disagree, one line each: a component built but not swept (or swept
 * at another version), a patch header naming an id the ledger does not record as fixed by it, a
 * "patched" entry whose file is gone or not applied, an entry without its evidence, reason or date.
 */
export function ledgerProblems(ledger: Ledger, manifest: Manifest, patchDir: string): string[] {
  const out: string[] = [];
  const applied = appliedPatches(manifest);
  const byName = new Map(ledger.components.map((c) => [c.name, c]));
  for (const [name] of applied) {
    const version =
      manifest.libraries.find((l) => l.name === name)?.version ??
      manifest.artifacts.find((a) => a.name === name)?.version;
    const c = byName.get(name);
    if (!c) out.push(`${name} ${version} is built but has no entry in the ledger: sweep its advisories`);
    else if (c.version !== version)
      out.push(`${name}: the ledger was swept for ${c.version}, the manifest builds ${version}: sweep again`);
  }
  for (const c of ledger.components) {
    if (!applied.has(c.name)) out.push(`${c.name}: in the ledger but not built`);
    if (!DAY.test(c.swept)) out.push(`${c.name}: swept "${c.swept}" is not a date (YYYY-MM-DD)`);
    if (!c.sources.length) out.push(`${c.name}: no sources named for the sweep`);
    for (const a of c.advisories) {
      const label = `${c.name} ${a.ids.join(", ") || a.ref || a.what}`;
      if (!STATUSES.includes(a.status)) out.push(`${label}: unknown status "${a.status}"`);
      if (!a.ids.length && !a.ref) out.push(`${label}: neither an id nor the upstream change it refers to`);
      if (!a.evidence) out.push(`${label}: no evidence`);
      if (!DAY.test(a.checked ?? "")) out.push(`${label}: no date checked`);
      if (a.status !== "patched" && !a.why) out.push(`${label}: ${a.status} needs a why`);
      if (a.status === "patched") {
        if (!a.patches?.length) out.push(`${label}: patched, but by no named patch`);
        for (const p of a.patches ?? []) {
          if (!existsSync(join(patchDir, p))) out.push(`${label}: patched by ${p}, which does not exist`);
          else if (!(applied.get(c.name) ?? []).includes(p))
            out.push(`${label}: patched by ${p}, which ${c.name}'s build does not apply`);
          else {
            // The SBOM's pedigree says what each patch resolves from its header: it must name the id.
            const named = idsOfPatch(readFileSync(join(patchDir, p), "utf8"));
            for (const id of a.ids)
              if (!named.includes(id)) out.push(`${label}: patched by ${p}, whose header does not name ${id}`);
          }
        }
      }
    }
  }
  // Every id a patch header names is recorded, as fixed by that patch.
  for (const file of filesUnder(patchDir).filter((p) => p.endsWith(".patch"))) {
    const rel = relative(patchDir, file);
    for (const id of idsOfPatch(readFileSync(file, "utf8"))) {
      const entry = ledger.components.flatMap((c) => c.advisories).find((a) => a.ids.includes(id));
      if (!entry) out.push(`${rel} names ${id}, which the ledger lacks`);
      else if (!(entry.patches ?? []).includes(rel))
        out.push(`${rel} names ${id}, but the ledger does not say it is patched by it`);
    }
  }
  return out;
}

/** nginx modules compiled in but never reviewed against the ledger (names as in objs/ngx_modules.c). */
export function unreviewedModules(ledger: Ledger, compiled: string[]): string[] {
  const reviewed = new Set(ledger.components.find((c) => c.name === "nginx")?.modules ?? []);
  return compiled.filter((m) => !reviewed.has(m));
}

/** The module names of an nginx build tree's objs/ngx_modules.c, in its order; fails on a file it cannot read them from. */
export function modulesOfNgxModulesC(text: string): string[] {
  const names = /ngx_module_names\[\] = \{([^}]*)\}/.exec(text)?.[1] ?? "";
  const modules = [...names.matchAll(/"([a-z0-9_]+)"/g)].map((m) => m[1]);
  // An empty list would pass the review check silently.
  if (!modules.includes("ngx_core_module"))
    throw new Error("objs/ngx_modules.c: no module names found (its format changed?)");
  return modules;
}

const STATUS_WORDS: Record<AdvisoryStatus, string> = {
  patched: "patched",
  "not-compiled": "not compiled",
  "not-affected": "not affected",
  open: "**open**",
};

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** SECURITY.md's security table: one row per advisory, components in the ledger's order. */
export function securityTable(ledger: Ledger): string {
  const rows = [
    "| component | advisory | what | fixed upstream in | status | evidence |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const c of ledger.components) {
    for (const a of c.advisories) {
      const status =
        a.status === "patched"
          ? `patched (${(a.patches ?? []).map((p) => `\`${p}\``).join(", ")})`
          : `${STATUS_WORDS[a.status]}: ${a.why}`;
      rows.push(
        `| ${c.name} ${c.version} | ${a.ids.join(", ") || `none (${a.ref})`} | ${cell(a.what)} | ${cell(a.fixedIn)} | ${cell(status)} | ${cell(a.evidence)} (${a.checked}) |`,
      );
    }
    if (!c.advisories.length)
      rows.push(`| ${c.name} ${c.version} | none known | | | | swept through ${c.reviewedThrough} (${c.swept}) |`);
  }
  const swept = ledger.components.map((c) => `${c.name} through ${c.reviewedThrough}`).join(", ");
  return `${rows.join("\n")}\n\nLast sweep: ${lastSweep(ledger)} (${swept}).`;
}

export const TABLE_BEGIN = "<!-- security-table: made by `npm run docs` from builds/advisories.json; do not edit -->";
export const TABLE_END = "<!-- security-table end -->";

/** `text` with its generated table replaced by the ledger's, or null when it has no markers. */
export function withSecurityTable(text: string, ledger: Ledger): string | null {
  const from = text.indexOf(TABLE_BEGIN);
  const to = text.indexOf(TABLE_END);
  if (from < 0 || to < from) return null;
  return `${text.slice(0, from + TABLE_BEGIN.length)}\n${securityTable(ledger)}\n${text.slice(to)}`;
}

/** A CycloneDX 1.5 vulnerability with its VEX analysis. */
export interface CdxVulnerability {
  id: string;
  source: { name: string; url: string };
  analysis: { state: string; justification?: string; response?: string[]; detail: string };
  affects: { ref: string }[];
}

function sourceOf(id: string): CdxVulnerability["source"] {
  return id.startsWith("GHSA-")
    ? { name: "GitHub", url: `https://github.com/advisories/${id}` }
    : { name: "NVD", url: `https://nvd.nist.gov/vuln/detail/${id}` };
}

function analysisOf(a: Advisory): CdxVulnerability["analysis"] {
  switch (a.status) {
    case "patched":
      return { state: "resolved_with_pedigree", detail: `fixed by ${(a.patches ?? []).join(", ")}. ${a.evidence}` };
    case "not-compiled":
      return { state: "not_affected", justification: "code_not_present", detail: `${a.why} ${a.evidence}` };
    case "not-affected":
      return {
        state: "not_affected",
        justification: a.justification ?? "code_not_reachable",
        detail: `${a.why} ${a.evidence}`,
      };
    case "open":
      return a.triage
        ? { state: "in_triage", detail: `${a.why} ${a.evidence}` }
        : { state: "exploitable", response: ["update"], detail: `${a.why} ${a.evidence}` };
  }
}

/**
 * The VEX entries of one SBOM: every advisory with an id of the named components, each pointing
 * at the component's bom-ref (`name@version`).
 */
export function vulnerabilitiesOf(ledger: Ledger, components: { name: string; ref: string }[]): CdxVulnerability[] {
  return components.flatMap(({ name, ref }) =>
    (ledger.components.find((c) => c.name === name)?.advisories ?? []).flatMap((a) =>
      a.ids.map((id) => ({ id, source: sourceOf(id), analysis: analysisOf(a), affects: [{ ref }] })),
    ),
  );
}
