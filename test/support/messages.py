"""Prints every message the start scripts can print, one per line, with each shell expansion
written as "…": the first argument of die, say, give_up and begin_shutdown, as
the README's troubleshooting table must list them. Usage: messages.py FILE..."""
import re
import sys

CALLS = {"die": 0, "say": 0, "give_up": 0, "begin_shutdown": 0}


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
    for line in open(path):
        if line.lstrip().startswith("#"):
            continue
        for m in re.finditer(r"(?:^|[\s;{(&|'])(%s)\s+(?=\")" % "|".join(CALLS), line):
            args = words(line[m.end() :])
            n = CALLS[m.group(1)]
            if len(args) > n and args[n] not in seen and args[n] not in ("…",):
                seen.append(args[n])
for message in seen:
    print(re.sub("…+", "…", message))
