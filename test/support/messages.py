"""Prints every message the start scripts and their supervisor can print, one per line, with
each shell expansion or printf conversion written as "…", as the README's troubleshooting table
must list them: in shell, the first argument of output::die and output::say, and the texts a plan gives the
supervisor (its -say words, and the reasons of ready-wait and forbid-port); in C, the formats of
say, begin_shutdown and give_up. Usage: messages.py FILE..."""
import re
import sys

CALLS = {"output::die": 0, "output::say": 0, "timeout-say": 0, "forbid-say": 0, "ready-say": 0, "ready-wait": 2, "forbid-port": 1}
C_CALL = re.compile(r'\b(?:say\(\s*[^,()]+,|begin_shutdown\(|give_up\()\s*"((?:[^"\\]|\\.)*)"')


def quoted(text, i):
    """The double-quoted word starting at text[i] == '"': (its skeleton, index after it)."""
    out, i, depth = [], i + 1, 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            out.append(text[i + 1]) if depth == 0 else None
            i += 2
            continue
        if c == "$" and text[i + 1 : i + 2] in ("(", "{"):
            # An expansion, possibly holding quotes of its own: skip to its matching close.
            close = ")" if text[i + 1] == "(" else "}"
            j, level, in_quote = i + 2, 1, False
            while level:
                if text[j] == '"':
                    in_quote = not in_quote
                elif not in_quote and text[j] == text[i + 1]:
                    level += 1
                elif not in_quote and text[j] == close:
                    level -= 1
                j += 1
            out.append("…")
            i = j
            continue
        if c == "$" and re.match(r"[A-Za-z_0-9]", text[i + 1 : i + 2]):
            i = re.match(r"\$[0-9]|\$[A-Za-z_][A-Za-z_0-9]*", text[i:]).end() + i
            out.append("…")
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise SystemExit("messages.py: unterminated string")


def words(rest):
    """The words after a call: quoted ones as skeletons, others as they are."""
    i, found = 0, []
    while i < len(rest) and rest[i] not in ";|&)\n#":
        if rest[i] == '"':
            word, i = quoted(rest, i)
            found.append(word)
        elif rest[i].isspace():
            i += 1
        else:
            m = re.match(r"[^\s;|&)]+", rest[i:])
            found.append(m.group(0))
            i += m.end()
    return found


seen = []
for path in sys.argv[1:]:
    if path.endswith(".c"):
        for m in C_CALL.finditer(open(path).read()):
            message = re.sub(r"%[-0-9.]*l?[sd]", "…", m.group(1)).replace('\\"', '"')
            if message not in seen and message != "…":
                seen.append(message)
        continue
    for line in open(path):
        if line.lstrip().startswith("#"):
            continue
        for m in re.finditer(r"(?:^|[\s;{(&|'])(%s)\s+(?=[\"$0-9])" % "|".join(CALLS), line):
            args = words(line[m.end() :])
            n = CALLS[m.group(1)]
            if len(args) > n and args[n] not in seen and args[n] not in ("…",):
                seen.append(args[n])
for message in seen:
    print(re.sub("…+", "…", message))
