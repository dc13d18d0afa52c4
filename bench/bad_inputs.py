#!/usr/bin/python3
"""Issue 8's bad-input campaign: damaged, disguised and enormous inputs
through `custodia ingest` and `custodia watch --once`.

Every file of $CUSTODIA_TESTDATA/pdf_bad_inputs (read in place, never
copied into the repository), plus inputs generated into a temporary folder
from samples/: scans truncated at many offsets, seeded random byte flips,
50,000 x 50,000 pixel images (PNG, TIFF, JPEG headers; a PDF image), a
10,000-page PDF (with text, and blank), zero-byte files, wrong extensions,
archives and HTML disguised as PDFs; and, as a control, the scans of
samples/ as they are, which must be archived (a binary that cannot read
good files would otherwise pass: every input refused with a reason).

Each input goes through `custodia ingest` alone (one process, a wall-clock
limit, its peak RSS from wait4), then all of them through one
`custodia watch --once` run on a hot folder. Checked for each input:

  ingest: no signal exit, no timeout, exit 0 (archived) or 1 with a reason
          on its document line; the source left byte for byte;
  watch:  archived (in done/) or quarantined with a non-empty reason, the
          quarantined source byte for byte what was dropped;
  both:   `custodia verify` green afterwards.

Anything else is a failure, and the script exits 1. Usage:

  CUSTODIA_TESTDATA=... bench/bad_inputs.py [--custodia build/tools/custodia]
      [--only KIND,...] [--offsets N] [--flips N] [--timeout S] [--no-watch]
      [--keep] [--markdown]
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")
PASSPHRASE = "bad input campaign"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def scans():
    return sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES)
                  if "_scan" in n and not n.endswith(".json"))


# --- Generators: each returns a list of (kind, path) -------------------------


def gen_testdata(out, args):
    base = os.path.join(args.testdata, "pdf_bad_inputs")
    found = []
    for d, _, files in sorted(os.walk(base)):
        for f in sorted(files):
            found.append(("testdata", os.path.join(d, f)))
    return found


def gen_truncated(out, args):
    found = []
    for src in scans():
        data = open(src, "rb").read()
        n = len(data)
        cuts = {1, 8, 100, n - 1}
        for i in range(1, args.offsets + 1):
            cuts.add(n * i // (args.offsets + 1))
        for cut in sorted(c for c in cuts if 0 < c < n):
            name = os.path.basename(src)
            stem, ext = os.path.splitext(name)
            path = os.path.join(out, f"{stem}.cut{cut}{ext}")
            open(path, "wb").write(data[:cut])
            found.append(("truncated", path))
    return found


def gen_flips(out, args):
    rng = random.Random(8)
    found = []
    for src in scans():
        data = open(src, "rb").read()
        for k in range(args.flips):
            count = [1, 10, 100, 1000][k % 4]
            b = bytearray(data)
            for _ in range(count):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
            stem, ext = os.path.splitext(os.path.basename(src))
            path = os.path.join(out, f"{stem}.flip{count}-{k}{ext}")
            open(path, "wb").write(bytes(b))
            found.append(("flips", path))
    return found


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def gen_huge(out, args):
    """50,000 x 50,000 pixels, cheap: 1-bit, all white, compressed."""
    w = h = 50000
    found = []
    # PNG, 1-bit gray, every row a zero filter byte and white pixels.
    row = b"\x00" + b"\xff" * (w // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(h)]
    parts.append(comp.flush())
    idat = b"".join(parts)
    path = os.path.join(out, "huge_50000x50000.png")
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", idat))
        f.write(png_chunk(b"IEND", b""))
    found.append(("huge", path))
    # TIFF: 1-bit, one strip of PackBits runs (128 bytes of 0x00 in 2 bytes).
    row_bytes = w // 8
    run = b"\x81\x00"  # 128 repeats of 0x00 (white with MinIsWhite)
    row_runs = run * (row_bytes // 128) + bytes([256 - (row_bytes % 128) + 1, 0])
    strip = row_runs * h
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 1), (259, 3, 1, 32773),
               (262, 3, 1, 0), (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, h),
               (279, 4, 1, len(strip))]
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, typ, cnt, val in entries:
        if tag == 273:
            val = data_at
        if typ == 3:
            ifd += struct.pack("<HHIHH", tag, typ, cnt, val, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, cnt, val)
    ifd += struct.pack("<I", 0)
    path = os.path.join(out, "huge_50000x50000.tif")
    with open(path, "wb") as f:
        f.write(b"II*\x00" + struct.pack("<I", ifd_at) + ifd + strip)
    found.append(("huge", path))
    # JPEG: a baseline header claiming 50,000 x 50,000, then the scan cut short.
    small = open(os.path.join(SAMPLES, "01_factura_scan.jpg"), "rb").read()
    i = small.find(b"\xff\xc0")
    if i > 0:
        b = bytearray(small)
        b[i + 5:i + 9] = struct.pack(">HH", h, w)
        path = os.path.join(out, "huge_50000x50000.jpg")
        open(path, "wb").write(bytes(b))
        found.append(("huge", path))
    # PDF: a letter-size page showing a 50,000 x 50,000 1-bit image.
    img = zlib.compress(b"\x00" * (row_bytes * 2000), 9)  # only 2000 rows present
    content = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width 50000 /Height 50000 /BitsPerComponent 1 "
        b"/ColorSpace /DeviceGray /Filter /FlateDecode /Length %d >>\nstream\n" % len(img) + img +
        b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    path = os.path.join(out, "huge_image_50000x50000.pdf")
    write_pdf(path, objs)
    found.append(("huge", path))
    return found


def write_pdf(path, objs):
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offsets:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    with open(path, "wb") as f:
        f.write(out.getvalue())


def gen_manypages(out, args):
    """10,000 pages: one shared content stream (text, or nothing)."""
    found = []
    pages = args.pages
    line = ("Factura numero 2026-%05d. Servicios de asesoria contable y fiscal del mes, "
            "importe base 1.250,00 EUR, IVA 21 por ciento, total 1.512,50 EUR. ")
    for variant in ("text", "blank"):
        if variant == "text":
            text = b"BT /F1 10 Tf 40 750 Td 12 TL " + b" ".join(
                b"(" + (line % i).encode() + b") '" for i in range(8)) + b" ET"
        else:
            text = b""
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None,
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream"]
        first = len(objs) + 1
        kids = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
        objs[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages
        for _ in range(pages):
            objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>")
        path = os.path.join(out, f"pages_{pages}_{variant}.pdf")
        write_pdf(path, objs)
        found.append(("manypages", path))
    return found


def gen_empty(out, args):
    found = []
    for name in ("empty.pdf", "empty.png", "empty.jpg", "empty.tif", "empty"):
        path = os.path.join(out, name)
        open(path, "wb").close()
        found.append(("empty", path))
    return found


def gen_wrongext(out, args):
    found = []
    pairs = [("01_factura_scan.jpg", "jpeg_as.pdf"), ("01_factura.pdf", "pdf_as.png"),
             ("03_justificante_scan.png", "png_as.jpg"), ("05_contrato_scan.tif", "tif_as.pdf"),
             ("07_albaran_scan.png", "png_as.tif"), ("02_dni.pdf", "pdf_as.txt")]
    for src, name in pairs:
        path = os.path.join(out, name)
        shutil.copyfile(os.path.join(SAMPLES, src), path)
        found.append(("wrongext", path))
    for name, data in [("text_as.pdf", "Factura 2026-0001\nTotal 121,00 EUR\n" * 50),
                       ("html_as.pdf", "<!DOCTYPE html><html><body><h1>Factura</h1>"
                        "<embed src='x.pdf'></body></html>\n"),
                       ("html_pdf_header.pdf", "%PDF-1.4\n<html><body>not a pdf</body></html>\n"),
                       ("notes.txt", "just some notes\n")]:
        path = os.path.join(out, name)
        open(path, "w").write(data)
        found.append(("wrongext", path))
    return found


def gen_archives(out, args):
    found = []
    pdf = open(os.path.join(SAMPLES, "01_factura.pdf"), "rb").read()
    path = os.path.join(out, "zip_as.pdf")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("01_factura.pdf", pdf)
    found.append(("archives", path))
    path = os.path.join(out, "zip_stored_pdf_as.pdf")  # the PDF's %PDF- inside the zip, stored
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("01_factura.pdf", pdf)
    found.append(("archives", path))
    path = os.path.join(out, "targz_as.pdf")
    with tarfile.open(path, "w:gz") as t:
        t.add(os.path.join(SAMPLES, "01_factura.pdf"), arcname="01_factura.pdf")
    found.append(("archives", path))
    path = os.path.join(out, "tar_as.pdf")  # plain tar: the PDF at offset 512
    with tarfile.open(path, "w") as t:
        t.add(os.path.join(SAMPLES, "01_factura.pdf"), arcname="01_factura.pdf")
    found.append(("archives", path))
    path = os.path.join(out, "gzip_as.pdf")
    open(path, "wb").write(gzip.compress(pdf))
    found.append(("archives", path))
    path = os.path.join(out, "gzip_bomb_as.pdf")  # 1 GiB of zeros, 1 MB compressed
    with gzip.open(path, "wb", compresslevel=9) as g:
        block = b"\x00" * (1 << 20)
        for _ in range(1024):
            g.write(block)
    found.append(("archives", path))
    path = os.path.join(out, "zip_as.png")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.png", open(os.path.join(SAMPLES, "03_justificante_scan.png"), "rb").read())
    found.append(("archives", path))
    return found


def gen_control(out, args):
    """The scans as they are: each must be archived, by ingest and by watch."""
    return [("control", src) for src in scans()]


GENERATORS = [("testdata", gen_testdata), ("truncated", gen_truncated), ("flips", gen_flips),
              ("huge", gen_huge), ("manypages", gen_manypages), ("empty", gen_empty),
              ("wrongext", gen_wrongext), ("archives", gen_archives), ("control", gen_control)]


# --- Running -----------------------------------------------------------------


def run(cmd, env, timeout):
    """Runs cmd; returns (rc or -signal or None on timeout, stdout, stderr, seconds, maxrss MiB)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        rc = None
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - start > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                _, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        p.returncode = 0  # reaped above
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return rc, out.read().decode(errors="replace"), err.read().decode(errors="replace"), \
            seconds, usage.ru_maxrss / 1024.0


class Campaign:
    def __init__(self, args):
        self.args = args
        self.env = dict(os.environ, CUSTODIA_PASSPHRASE=PASSPHRASE, CUSTODIA_USER="campaign")
        self.rows = []      # dicts per input and path
        self.failures = []

    def cli(self, archive, *argv, timeout=120):
        return run([self.args.custodia, "--archive", archive] + list(argv), self.env, timeout)

    def init(self, archive, config=""):
        rc, out, err, *_ = self.cli(archive, "init")
        if rc != 0:
            sys.exit(f"init failed: {err}")
        if config:
            open(os.path.join(archive, "custodia.toml"), "w").write(config)

    def verify(self, archive):
        rc, out, err, *_ = self.cli(archive, "verify", timeout=600)
        return rc == 0, (out + err).strip().splitlines()[-1:] or [""]

    def fail(self, row, why):
        row["ok"] = False
        row["problems"].append(why)
        self.failures.append(f"{row['path']} {row['input']}: {why}")

    def ingest_one(self, archive, kind, path):
        a = self.args
        before = sha256(path)
        argv = ["--json", "ingest", "--jobs", "1"] + a.ingest_args + [path]
        rc, out, err, secs, rss = self.cli(archive, *argv, timeout=a.timeout)
        row = {"path": "ingest", "kind": kind, "input": os.path.basename(path), "rc": rc,
               "seconds": secs, "rss_mb": rss, "ok": True, "problems": [], "reason": ""}
        docs = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        errors = [d.get("error", "") for d in docs if d.get("status") == "failed"]
        if rc is None:
            self.fail(row, f"hang: killed after {a.timeout} s")
        elif rc < 0:
            self.fail(row, f"crash: signal {-rc}")
        elif rc not in (0, 1):
            self.fail(row, f"exit {rc}: {err.strip()[-300:]}")
        if rc == 0:
            row["outcome"] = "archived"
            if errors or not docs:
                self.fail(row, "exit 0 but " + ("a failed document" if errors else "no document"))
        elif rc == 1:
            row["outcome"] = "refused"
            reason = errors[0] if errors else err.strip().splitlines()[-1] if err.strip() else ""
            # "custodia ingest: FILE: reason" on stderr: the reason is what follows the name
            row["reason"] = reason
            if not reason.strip():
                self.fail(row, "refused without a reason")
        else:
            row["outcome"] = "hang" if rc is None else "crash" if rc < 0 else f"exit {rc}"
        if kind == "control" and row["outcome"] != "archived":
            self.fail(row, "a good scan not archived: " + (row["reason"] or row["outcome"]))
        if not os.path.exists(path) or sha256(path) != before:
            self.fail(row, "source changed or lost")
        if a.verify_each or not row["ok"]:
            ok, last = self.verify(archive)
            row["verify"] = ok
            if not ok:
                self.fail(row, "verify red: " + last[0])
        return row

    def watch_all(self, archive, inputs):
        a = self.args
        inbox = os.path.join(a.work, "inbox")
        os.makedirs(inbox)
        dropped = {}
        for i, (kind, path) in enumerate(inputs):
            name = f"{i:04d}-{kind}-{os.path.basename(path)}"
            shutil.copyfile(path, os.path.join(inbox, name))
            dropped[name] = (kind, path, sha256(path))
        limit = a.timeout * len(inputs) + 300
        rc, out, err, secs, rss = self.cli(archive, "--json", "watch", "--once", "--inbox", inbox,
                                           timeout=limit)
        lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        quarantined = {l["quarantined"].split("/", 1)[1]: l for l in lines if "quarantined" in l}
        archived = {l["source"].split("/", 1)[1] for l in lines
                    if "outcome" in l and l["outcome"] == "archived"}
        seconds = {}
        for l in lines:
            if "source" in l and "seconds" in l and "outcome" not in l:
                key = l["source"].split("/", 1)[1].split(" (pages")[0]
                seconds[key] = seconds.get(key, 0) + l["seconds"]
        summary = {"rc": rc, "seconds": secs, "rss_mb": rss}
        if rc is None or rc != 0:
            self.failures.append(f"watch --once: exit {rc}: {err.strip()[-500:]}")
        for name, (kind, path, digest) in dropped.items():
            row = {"path": "watch", "kind": kind, "input": os.path.basename(path), "rc": rc,
                   "seconds": seconds.get(name, 0.0), "rss_mb": None, "ok": True, "problems": [],
                   "reason": ""}
            qpath = os.path.join(inbox, "quarantine", name)
            dpath = os.path.join(inbox, "done", name)
            if name in quarantined:
                row["outcome"] = "quarantined"
                row["reason"] = quarantined[name].get("reason", "")
                moved = os.path.join(inbox, quarantined[name]["moved_to"])
                if not os.path.exists(moved) or sha256(moved) != digest:
                    self.fail(row, "quarantined source lost or changed")
                rpath = moved + ".reason.txt"
                if not os.path.exists(rpath) or "reason:" not in open(rpath, errors="replace").read():
                    self.fail(row, "no reason file")
                if not row["reason"].strip():
                    self.fail(row, "quarantined without a reason")
            elif name in archived:
                row["outcome"] = "archived"
                if not os.path.exists(dpath) or sha256(dpath) != digest:
                    self.fail(row, "released source lost or changed")
            else:
                row["outcome"] = "left in the inbox" if os.path.exists(os.path.join(inbox, name)) \
                    else "missing"
                self.fail(row, row["outcome"])
            if kind == "control" and row["outcome"] != "archived":
                self.fail(row, "a good scan not archived: " + (row["reason"] or row["outcome"]))
            self.rows.append(row)
        ok, last = self.verify(archive)
        summary["verify"] = ok
        if not ok:
            self.failures.append("watch: verify red: " + last[0])
        return summary


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--custodia", default=os.path.join(ROOT, "build", "tools", "custodia"))
    p.add_argument("--testdata", default=os.environ.get("CUSTODIA_TESTDATA", ""))
    p.add_argument("--only", default="", help="kinds, comma-separated: " +
                   ",".join(k for k, _ in GENERATORS))
    p.add_argument("--offsets", type=int, default=6, help="truncation points per scan besides "
                   "1, 8, 100 and size-1 bytes")
    p.add_argument("--flips", type=int, default=4, help="flipped copies per scan (1, 10, 100, "
                   "1000 bits)")
    p.add_argument("--pages", type=int, default=10000)
    p.add_argument("--timeout", type=float, default=300, help="wall-clock limit per ingest")
    p.add_argument("--document-timeout", type=float, default=120,
                   help="the archive's document_timeout_seconds")
    p.add_argument("--memory-limit-mb", type=int, default=0, help="0: the default")
    p.add_argument("--ingest-arg", dest="ingest_args", action="append", default=[])
    p.add_argument("--no-watch", action="store_true")
    p.add_argument("--verify-each", action="store_true", default=True)
    p.add_argument("--keep", action="store_true", help="leave the work folder")
    p.add_argument("--json", help="write every row here")
    a = p.parse_args()
    a.custodia = os.path.abspath(a.custodia)
    if not os.access(a.custodia, os.X_OK):
        sys.exit(f"no custodia binary at {a.custodia} (build it, or --custodia)")
    only = set(filter(None, a.only.split(",")))
    a.work = tempfile.mkdtemp(prefix="custodia-bad-inputs-")
    gen_dir = os.path.join(a.work, "inputs")
    os.makedirs(gen_dir)
    inputs = []
    for kind, gen in GENERATORS:
        if only and kind not in only:
            continue
        if kind == "testdata" and not a.testdata:
            print("note: no CUSTODIA_TESTDATA; testdata inputs left out", file=sys.stderr)
            continue
        t = time.monotonic()
        got = gen(gen_dir, a)
        inputs += got
        print(f"generated {len(got)} {kind} inputs in {time.monotonic() - t:.1f} s", file=sys.stderr)

    config = "[watch]\nsettle_seconds = 0\nrescan_seconds = 0.5\n" \
             f"document_timeout_seconds = {a.document_timeout}\n"
    if a.memory_limit_mb:
        config += f"memory_limit_mb = {a.memory_limit_mb}\n"
    c = Campaign(a)
    archive = os.path.join(a.work, "archive-ingest")
    c.init(archive, config)
    for n, (kind, path) in enumerate(inputs, 1):
        row = c.ingest_one(archive, kind, path)
        c.rows.append(row)
        print(f"[{n}/{len(inputs)}] ingest {kind} {row['input']}: {row['outcome']} "
              f"{row['seconds']:.1f} s {row['rss_mb']:.0f} MiB  {row['reason'][:100]}"
              + ("  PROBLEM: " + "; ".join(row["problems"]) if row["problems"] else ""),
              file=sys.stderr, flush=True)
    watch = None
    if not a.no_watch:
        archive = os.path.join(a.work, "archive-watch")
        c.init(archive, config)
        watch = c.watch_all(archive, inputs)
        print(f"watch --once: exit {watch['rc']}, {watch['seconds']:.0f} s, peak RSS "
              f"{watch['rss_mb']:.0f} MiB, verify {'green' if watch['verify'] else 'RED'}",
              file=sys.stderr)

    # The table: per path and kind.
    print("| path | input | cases | archived | refused / quarantined | problems | max s | max RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for path in ("ingest", "watch"):
        for kind, _ in GENERATORS:
            rows = [r for r in c.rows if r["path"] == path and r["kind"] == kind]
            if not rows:
                continue
            arch = sum(r["outcome"] == "archived" for r in rows)
            ref = sum(r["outcome"] in ("refused", "quarantined") for r in rows)
            bad = sum(not r["ok"] for r in rows)
            rss = [r["rss_mb"] for r in rows if r["rss_mb"] is not None]
            print(f"| {path} | {kind} | {len(rows)} | {arch} | {ref} | {bad} | "
                  f"{max(r['seconds'] for r in rows):.1f} | "
                  f"{(f'{max(rss):.0f}' if rss else '-')} |")
    if watch:
        print(f"\nwatch --once over all {len(inputs)}: {watch['seconds']:.0f} s, peak RSS "
              f"{watch['rss_mb']:.0f} MiB (watcher and workers), verify "
              f"{'green' if watch['verify'] else 'red'}")
    reasons = {}
    for r in c.rows:
        if r["reason"]:
            key = r["reason"]
            reasons.setdefault(key, []).append(f"{r['path']}:{r['input']}")
    print("\nreasons given:")
    for reason, who in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(who):4d}  {reason[:160]}   (e.g. {who[0]})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": c.rows, "watch": watch, "failures": c.failures}, f, indent=1)
    if a.keep:
        print(f"\nwork folder kept: {a.work}", file=sys.stderr)
    else:
        shutil.rmtree(a.work, ignore_errors=True)
    if c.failures:
        print(f"\n{len(c.failures)} FAILURES:")
        for f in c.failures:
            print("  " + f)
        return 1
    print("\nno failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
