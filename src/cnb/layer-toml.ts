import { existsSync, readFileSync } from "node:fs";

/** `<layer>.toml` as we write it: the [types] flags and flat string [metadata]. */
export interface LayerToml {
  types: { launch: boolean; build: boolean; cache: boolean };
  metadata: Record<string, string>;
}

const quote = (s: string) => JSON.stringify(s); // TOML basic strings share JSON's escapes for our values

export function formatLayerToml(t: LayerToml): string {
  const meta = Object.keys(t.metadata)
    .sort()
    .map((k) => `${quote(k)} = ${quote(t.metadata[k])}`);
  return `[types]\nlaunch = ${t.types.launch}\nbuild = ${t.types.build}\ncache = ${t.types.cache}\n\n[metadata]\n${meta.join("\n")}\n`;
}

/**
 * The [metadata] of a restored `<layer>.toml` (the lifecycle restores it without [types]), or null
 * when there is none. Reads only what formatLayerToml writes: `"key" = "value"` lines.
 */
export function readLayerMetadata(path: string): Record<string, string> | null {
  if (!existsSync(path)) return null;
  const meta: Record<string, string> = {};
  let section = "";
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const kv = /^\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*")\s*$/.exec(line);
    if (section === "metadata" && kv) {
      const key = kv[1].startsWith('"') ? (JSON.parse(kv[1]) as string) : kv[1];
      meta[key] = JSON.parse(kv[2]) as string;
    }
  }
  return meta;
}
