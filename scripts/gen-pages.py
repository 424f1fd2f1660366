#!/usr/bin/env python3
"""Generate a realistic rundocs content folder for benchmarks.

    scripts/gen-pages.py OUT_DIR [--pages 1000] [--sections 10] [--seed 1]

Writes OUT_DIR/index.md (the home page), SECTIONS folders each with an
index.md, and article pages spread over the sections, PAGES files in all.
Every file opens with +++ TOML front matter (title, weight, description);
articles have a few ## / ### headings, paragraphs with inline markup, a
table, and one or two ```python blocks, the first followed by an ```output
block. The output is deterministic for a given seed. Writes the URL path of
every page, one per line, to OUT_DIR.urls (a file next to the folder) so a
benchmark can request each page once, and prints a one-line summary.
"""
import argparse
import os
import random
import sys

WORDS = (
    "interpreter thread lock state module import buffer request worker server "
    "embedding native callback handle object reference count memory arena pool "
    "queue event loop signal timeout snapshot page render cache header socket "
    "stream channel future task runtime schedule release acquire borrow extension "
    "capsule finalizer allocator frame traceback exception context variable "
    "global local scope binding function method class instance attribute value"
).split()

TOPICS = [
    "The GIL", "Native threads", "Sub-interpreters", "Debugging", "Memory",
    "Extension modules", "Async servers", "Packaging", "Profiling", "Testing",
    "Signals", "Startup", "Isolation", "Errors", "Logging",
]


def sentence(rng, low=8, high=18):
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    # Sprinkle inline markup the way write-ups do.
    i = rng.randrange(len(words))
    words[i] = f"`{words[i]}()`"
    if rng.random() < 0.4:
        j = rng.randrange(len(words))
        words[j] = f"*{words[j]}*"
    if rng.random() < 0.2:
        j = rng.randrange(len(words))
        words[j] = f"[{words[j]}](https://docs.python.org/3/c-api/init.html)"
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def paragraph(rng, sentences=(3, 6)):
    lines, line = [], ""
    for s in (sentence(rng) for _ in range(rng.randint(*sentences))):
        for word in s.split(" "):
            if len(line) + len(word) + 1 > 76:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def table(rng):
    cols = ["Setting", "Default", "Effect"]
    rows = [
        (f"`{rng.choice(WORDS)}_{rng.choice(WORDS)}`", str(rng.choice([0, 1, 8, 64, 1024, "off", "on"])),
         sentence(rng, 4, 9))
        for _ in range(rng.randint(3, 6))
    ]
    out = ["| " + " | ".join(cols) + " |", "|---|---|---|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def python_block(rng, with_output):
    n = rng.randint(3, 9)
    name = rng.choice(WORDS)
    code = (
        "import itertools\n\n"
        f"def {name}_values(limit):\n"
        f"    \"\"\"Return the first values of the {name} series.\"\"\"\n"
        f"    return [i * i + {n} for i in range(limit)]\n\n"
        f"values = {name}_values({n})\n"
        "pairs = list(itertools.pairwise(values))\n"
        f"print(\"{name}:\", values)\n"
        "print(\"pairs:\", len(pairs))\n"
    )
    block = f"```python\n{code}```"
    if with_output:
        values = [i * i + n for i in range(n)]
        block += f"\n\n```output\n{name}: {values}\npairs: {n - 1}\n```"
    return block


def front_matter(title, weight, description):
    esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')
    return f'+++\ntitle = "{esc(title)}"\nweight = {weight}\ndescription = "{esc(description)}"\n+++\n'


def article(rng, title, weight):
    parts = [front_matter(title, weight, sentence(rng, 8, 14)), f"# {title}", paragraph(rng)]
    headings = rng.randint(3, 5)
    table_at = rng.randrange(headings)
    code_at = sorted(rng.sample(range(headings), rng.randint(1, 2)))
    for h in range(headings):
        parts.append(f"## {rng.choice(TOPICS)} and {rng.choice(WORDS)} {h + 1}")
        parts.append(paragraph(rng))
        if h in code_at:
            parts.append(python_block(rng, with_output=(h == code_at[0])))
            parts.append(paragraph(rng, (1, 3)))
        if h == table_at:
            parts.append(table(rng))
        if rng.random() < 0.5:
            parts.append(f"### Details of {rng.choice(WORDS)}")
            parts.append(paragraph(rng, (2, 4)))
    return "\n\n".join(parts) + "\n"


def section_index(rng, title, weight):
    return "\n\n".join([
        front_matter(title, weight, sentence(rng, 8, 14)),
        f"# {title}",
        paragraph(rng),
        paragraph(rng, (2, 4)),
    ]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--pages", type=int, default=1000, help="total .md files, home and section indexes included")
    ap.add_argument("--sections", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.pages < args.sections + 1:
        sys.exit("--pages must be at least --sections + 1")
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    urls = [""]
    files = {"index.md": front_matter("Benchmark site", 0, "A generated site for benchmarks.")
             + "\n# Benchmark site\n\n" + paragraph(rng) + "\n"}
    articles = args.pages - 1 - args.sections
    for s in range(args.sections):
        slug = f"section-{s + 1:02d}"
        title = f"{TOPICS[s % len(TOPICS)]} ({s + 1})"
        files[f"{slug}/index.md"] = section_index(rng, title, s + 1)
        urls.append(slug)
        count = articles // args.sections + (1 if s < articles % args.sections else 0)
        for p in range(count):
            name = f"{slug}/page-{p + 1:03d}"
            files[name + ".md"] = article(rng, f"{rng.choice(TOPICS)}: {rng.choice(WORDS)} {p + 1}", p + 1)
            urls.append(name)
    total = 0
    for rel, text in files.items():
        path = os.path.join(args.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        total += len(text.encode())
    out = os.path.normpath(args.out)
    with open(out + ".urls", "w", encoding="utf-8") as f:
        f.write("".join(f"/{u}\n" for u in urls))
    print(f"{len(files)} pages, {total} bytes of markdown, {total // len(files)} bytes/page on average")


if __name__ == "__main__":
    main()
