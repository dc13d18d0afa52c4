#!/usr/bin/env python3
"""Character error rate for bench/ocr_eval.sh (Python standard library only).

CER of a page = Levenshtein distance (insertions, deletions, substitutions,
each 1) between the normalised ground truth and the normalised OCR text,
divided by the length of the normalised ground truth. It can exceed 100%
when a tool emits more wrong text than the page holds (sideways garbage).

Normalisation, applied to both texts, nothing else:
  1. Unicode NFC (a precomposed "á" and "a" + U+0301 are the same character);
  2. every run of whitespace (spaces, tabs, newlines, form feeds, NBSP:
     whatever str.split() splits on) becomes one space; none at either end.
Case, accents, punctuation, decimal commas and points, "º", "€" are kept:
a "1.234,50" read as "1234.50" costs 2 edits.

Subcommands (all used by bench/ocr_eval.sh):
  pages MANIFEST [--pages N]        image path and stem of the first N pages
  custodia-text BIN ARCHIVE INGEST_JSONL OUTDIR
                                    each ingested document's text, by its
                                    source file's stem, into OUTDIR/STEM.txt
                                    (a many-page document: STEM.pK.txt too)
  report --manifest M --results DIR [--pages N] [--linn-txt F]
                                    the table (stdout) and DIR/per_page.tsv
  selftest                          the distance against a plain DP
"""

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import unicodedata


def normalise(s):
    return " ".join(unicodedata.normalize("NFC", s).split())


def levenshtein(a, b):
    """Edit distance, bit-parallel (Myers 1999, Hyyro's global variant) on
    Python integers: O(len(b)) big-integer operations of len(a) bits."""
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def levenshtein_dp(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(truth, hyp):
    """(edits, ground-truth length) after normalisation."""
    t, h = normalise(truth), normalise(hyp)
    return levenshtein(t, h), max(1, len(t))


def selftest():
    rng = random.Random(7)
    alphabet = "aábc ,.1€\n"
    for _ in range(3000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 90)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 90)))
        assert levenshtein(a, b) == levenshtein_dp(a, b), (a, b)
    assert normalise("  Año\u00a0 1.234,50 €\n\fde\u0301  ") == "Año 1.234,50 € dé"
    assert cer("1.234,50", "1234.50") == (2, 8)
    print("cer.py selftest: ok")


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def load_manifest(path, pages=None):
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    ps = m["pages"][:pages] if pages else m["pages"]
    return m, ps


def stem(name):
    return os.path.splitext(os.path.basename(name))[0]


def cmd_pages(args):
    _, ps = load_manifest(args.manifest, args.pages)
    folder = os.path.dirname(os.path.abspath(args.manifest))
    for p in ps:
        print(f"{os.path.join(folder, p['file'])}\t{stem(p['file'])}")


def cmd_custodia_text(args):
    """Text of every ingested document: `export ID --format text` when this
    custodia has it, else `show --json ID`'s "text"."""
    help_out = subprocess.run([args.bin, "export", "--help"], capture_output=True,
                              text=True).stdout
    has_format = "--format" in help_out
    os.makedirs(args.outdir, exist_ok=True)
    n = 0
    with open(args.ingest_jsonl, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            if not rec.get("id"):
                print(f"cer.py: {rec.get('source')}: not ingested: {rec.get('error')}",
                      file=sys.stderr)
                continue
            if has_format:
                r = subprocess.run([args.bin, "--archive", args.archive, "export",
                                    rec["id"], "--format", "text", "--out", "-"],
                                   capture_output=True)
                text = r.stdout.decode("utf-8", errors="replace")
            else:
                r = subprocess.run([args.bin, "--archive", args.archive, "--json",
                                    "show", rec["id"]], capture_output=True)
                text = json.loads(r.stdout.decode("utf-8"))["text"] if r.returncode == 0 else ""
            if r.returncode != 0:
                print(f"cer.py: {rec['id']}: custodia exit {r.returncode}: "
                      f"{r.stderr.decode(errors='replace').strip()}", file=sys.stderr)
            s = stem(rec["source"])
            with open(os.path.join(args.outdir, s + ".txt"), "w", encoding="utf-8") as out:
                out.write(text)
            pages = text.split("\f")
            if len(pages) > 1:
                for k, page in enumerate(pages, 1):
                    with open(os.path.join(args.outdir, f"{s}.p{k}.txt"), "w",
                              encoding="utf-8") as out:
                        out.write(page)
            n += 1
    print(f"cer.py: {n} documents' text from {args.archive} "
          f"({'export --format text' if has_format else 'show --json'})", file=sys.stderr)


def read_times(path):
    """times.tsv: tool, key, seconds. key is a page stem, or 'wall'."""
    per, wall = {}, {}
    if not os.path.exists(path):
        return per, wall
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            tool, key, sec = parts
            if key == "wall":
                wall[tool] = wall.get(tool, 0.0) + float(sec)
            else:
                per.setdefault(tool, {})[key] = float(sec)
    return per, wall


def custodia_seconds(results, tool):
    """custodia's per-document seconds, from its ingest --json lines."""
    out = {}
    path = os.path.join(results, f"{tool}.ingest.jsonl")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("{"):
                    rec = json.loads(line)
                    if rec.get("seconds") is not None:
                        out[stem(rec["source"])] = float(rec["seconds"])
    return out


def pct(x):
    return "-" if x is None or math.isnan(x) else f"{100 * x:.2f}%"


def num(x, fmt="{:.2f}"):
    return "-" if x is None or math.isnan(x) else fmt.format(x)


TOOLS = [  # (key in results, label)
    ("custodia_j1", "custodia ingest --jobs 1"),
    ("custodia_j2", "custodia ingest --jobs 2"),
    ("tesseract", "tesseract IMG - -l spa+eng"),
    ("tesseract_omp1", "OMP_THREAD_LIMIT=1 tesseract ..."),
    ("ocrmypdf", "ocrmypdf --deskew --clean --rotate-pages"),
]
LINN = [  # (stem of the text file, label)
    ("linn", "linn.png (upright, the reference)"),
    ("cardinal.p1", "cardinal.pdf p1 (0°)"),
    ("cardinal.p2", "cardinal.pdf p2 (90°)"),
    ("cardinal.p3", "cardinal.pdf p3 (180°)"),
    ("cardinal.p4", "cardinal.pdf p4 (270°)"),
    ("skew", "skew.pdf (skewed)"),
    ("rotated_skew", "rotated_skew.pdf (/Rotate 90 + skew)"),
]


def cmd_report(args):
    _, ps = load_manifest(args.manifest, args.pages)
    per_time, wall = read_times(os.path.join(args.results, "times.tsv"))
    for t in ("custodia_j1", "custodia_j2"):
        per_time[t] = custodia_seconds(args.results, t)
    tools = [(k, lbl) for k, lbl in TOOLS
             if os.path.isdir(os.path.join(args.results, "text", k))]
    rows, per_page = {}, []
    for key, label in tools:
        cers, edits, total, secs, missing = [], 0, 0, [], 0
        for p in ps:
            s = stem(p["file"])
            hyp = read_text(os.path.join(args.results, "text", key, s + ".txt"))
            if hyp is None:
                missing += 1
                hyp = ""  # no output: every character lost
            e, n = cer(p["text"], hyp)
            cers.append(e / n)
            edits += e
            total += n
            if s in per_time.get(key, {}):
                secs.append(per_time[key][s])
            per_page.append((key, s, p["type"], p["degradation"]["rotation"], e, n,
                             per_time.get(key, {}).get(s)))
        w = wall.get(key)
        rows[key] = {
            "label": label, "pages": len(ps), "missing": missing,
            "cer_med": statistics.median(cers), "cer_mean": statistics.fmean(cers),
            "cer_pool": edits / total,
            "s_med": statistics.median(secs) if secs else float("nan"),
            "s_wall": w / len(ps) if w else float("nan"),
            "cers": cers,
        }
    with open(os.path.join(args.results, "per_page.tsv"), "w", encoding="utf-8") as f:
        f.write("tool\tpage\ttype\trotation\tedits\tgt_chars\tcer\tseconds\n")
        for key, s, typ, rot, e, n, sec in per_page:
            f.write(f"{key}\t{s}\t{typ}\t{rot}\t{e}\t{n}\t{e / n:.4f}\t"
                    f"{'' if sec is None else f'{sec:.3f}'}\n")

    def speed(ref, r):
        """ref's wall seconds per page over r's: above 1, r is faster."""
        ref = rows.get(ref, {}).get("s_wall")
        ok = ref and ref == ref and r["s_wall"] == r["s_wall"]
        return ref / r["s_wall"] if ok else float("nan")

    hdr = (f"{'tool':43s} {'pages':>5s} {'CER med':>8s} {'CER mean':>9s} {'CER pool':>9s} "
           f"{'s/pg med':>8s} {'s/pg wall':>9s} {'x tess':>7s} {'x tess1':>7s} "
           f"{'x ocrmypdf':>10s}")
    print(hdr)
    print("-" * len(hdr))
    for key, _ in tools:
        r = rows[key]
        label = r["label"] + (f" ({r['missing']} no output)" if r["missing"] else "")
        print(f"{label:43s} {r['pages']:5d} {pct(r['cer_med']):>8s} {pct(r['cer_mean']):>9s} "
              f"{pct(r['cer_pool']):>9s} {num(r['s_med']):>8s} {num(r['s_wall']):>9s} "
              f"{num(speed('tesseract', r)):>7s} {num(speed('tesseract_omp1', r)):>7s} "
              f"{num(speed('ocrmypdf', r)):>10s}")
    if "custodia_j1" in rows and "custodia_j2" in rows:
        j1, j2 = rows["custodia_j1"]["s_wall"], rows["custodia_j2"]["s_wall"]
        print(f"custodia --jobs 2 speed-up over --jobs 1 (wall): {num(j1 / j2)}x")
        same = sum(1 for p in ps if read_text(os.path.join(
            args.results, "text", "custodia_j1", stem(p["file"]) + ".txt")) == read_text(
            os.path.join(args.results, "text", "custodia_j2", stem(p["file"]) + ".txt")))
        print(f"custodia --jobs 1 and --jobs 2 texts identical on {same}/{len(ps)} pages")

    # by rotation, the medians: where each tool loses its characters
    rots = sorted({p["degradation"]["rotation"] for p in ps})
    if len(rots) > 1:
        print()
        print(f"{'CER median by page rotation':43s} " + " ".join(
            f"{str(r) + '° (' + str(sum(p['degradation']['rotation'] == r for p in ps)) + ')':>10s}"
            for r in rots))
        for key, _ in tools:
            cells = []
            for r in rots:
                v = [c for c, p in zip(rows[key]["cers"], ps)
                     if p["degradation"]["rotation"] == r]
                cells.append(f"{pct(statistics.median(v)):>10s}")
            print(f"{rows[key]['label']:43s} " + " ".join(cells))

    if args.linn_txt and os.path.exists(args.linn_txt):
        truth = read_text(args.linn_txt)
        ltools = [(k, lbl) for k, lbl in (("custodia_j1", "custodia"),
                                         ("tesseract", "tesseract"),
                                         ("ocrmypdf", "ocrmypdf"))
                  if os.path.isdir(os.path.join(args.results, "linn", k))]
        if ltools:
            print()
            print(f"{'linn page vs linn.txt (CER)':43s} " +
                  " ".join(f"{lbl:>10s}" for _, lbl in ltools))
            for s, label in LINN:
                cells = []
                for k, _ in ltools:
                    hyp = read_text(os.path.join(args.results, "linn", k, s + ".txt"))
                    if hyp is None:
                        cells.append(f"{'-':>10s}")
                        continue
                    e, n = cer(truth, hyp)
                    cells.append(f"{pct(e / n):>10s}")
                print(f"{label:43s} " + " ".join(cells))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("pages")
    a.add_argument("manifest")
    a.add_argument("--pages", type=int)
    a = sub.add_parser("custodia-text")
    a.add_argument("bin")
    a.add_argument("archive")
    a.add_argument("ingest_jsonl")
    a.add_argument("outdir")
    a = sub.add_parser("report")
    a.add_argument("--manifest", required=True)
    a.add_argument("--results", required=True)
    a.add_argument("--pages", type=int)
    a.add_argument("--linn-txt")
    sub.add_parser("selftest")
    args = ap.parse_args(argv)
    if args.cmd == "pages":
        cmd_pages(args)
    elif args.cmd == "custodia-text":
        cmd_custodia_text(args)
    elif args.cmd == "report":
        cmd_report(args)
    else:
        selftest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
