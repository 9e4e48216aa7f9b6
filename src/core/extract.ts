import { mkdirSync } from "node:fs";
import * as tar from "tar";
import { BuildpackFault } from "./errors";

/**
 * Unpacks an artifact into `dest`, keeping file modes. Our artifacts hold only plain files and
 * directories under relative paths; anything else (links, devices, absolute paths, `..`) means the
 * file is not one of ours, and the whole extraction is refused before it can write outside `dest`.
 */
export async function extractArtifact(archive: string, dest: string): Promise<string[]> {
  const problems: string[] = [];
  const entries: string[] = [];
  await tar.t({
    file: archive,
    onentry: (e) => {
      const p = e.path;
      if (e.type !== "File" && e.type !== "Directory") problems.push(`${p}: ${e.type} entries are not allowed`);
      if (p.startsWith("/") || p.split("/").includes("..")) problems.push(`${p}: path escapes the destination`);
      if (e.type === "File") entries.push(p.replace(/^\.\//, ""));
    },
  });
  if (problems.length) throw new BuildpackFault(`refusing to unpack ${archive}:\n${problems.join("\n")}`);
  mkdirSync(dest, { recursive: true });
  await tar.x({ file: archive, cwd: dest, preservePaths: false, strict: true, noChmod: false, preserveOwner: false });
  return entries;
}
