#!/usr/bin/env python3
"""Printable A4 separator sheets for custodia's scanning stations.

A separator sheet goes between the documents of a batch: custodia starts a
new document at it and drops the sheet itself (docs/separators.md). Each
sheet carries one big code and a caption a person can read:

  separador   QR code "CUSTODIA-SEP" (the default payload)
  expediente  QR code "EXP:<id>": a separator that also files the documents
              after it under case file (expediente) <id>
  patcht      Code 39 barcode "PATCHT"

Needs only Debian's python3 with python3-reportlab, python3-pil and
fonts-dejavu-core (scripts/install_deps.sh --samples). The codes are drawn
from reportlab's own QR and Code 39 encoders; the PDF is vector, the PNG is
drawn with Pillow from the same geometry (reportlab's renderPM is not
packaged), so both print the same sheet.

Examples
  # a sheet to print (A4, vector)
  /usr/bin/python3 samples/separator.py --out separador.pdf
  # a case-file sheet, and a Code 39 PATCHT sheet, as 300-dpi PNG
  /usr/bin/python3 samples/separator.py --case 2024-0001 --out exp.png --dpi 300
  /usr/bin/python3 samples/separator.py --patch-t --out patcht.pdf
  # another payload (must match [separators] payloads in custodia.toml)
  /usr/bin/python3 samples/separator.py --payload ACME-SEP --out acme.pdf
  # the fixtures of capture/testdata (150-dpi gray PNGs), exactly as committed
  /usr/bin/python3 samples/separator.py --testdata capture/testdata

Print at 100% ("actual size"), never "fit to page" on a printer that
shrinks much: the QR modules are 3 mm and the narrowest Code 39 bar 0.8 mm,
far above what a 150-dpi scan needs, so even a poor copy reads.
"""

import argparse
import os
import re
import sys

from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode import code39, qrencoder
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

A4_MM = (210.0, 297.0)
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
TITLE = "CUSTODIA \u2014 separador de documentos"
# Same grammar as capture/barcode.h's FindSeparator.
CASE_ID = re.compile(r"[A-Za-z0-9._/-]{1,64}")
POINTS_PER_MM = 72 / 25.4


# A sheet is a list of shapes in millimetres from the top-left corner:
#   ("rect", x, y, w, h)                           filled black
#   ("text", cx, baseline, size_pt, font, string)  centred on cx
#   ("text180", ...)                               the same, turned upside down
def qr_shapes(payload, cx, top, size):
    """A QR code (level M, quiet zone of 4 modules) `size` mm wide, incl. quiet zone."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(payload)
    qr.make()
    n = qr.getModuleCount()
    module = size / (n + 8)
    left = cx - size / 2
    shapes = []
    for r, row in enumerate(qr.modules):
        c = 0
        while c < n:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            shapes.append(("rect", left + (start + 4) * module, top + (r + 4) * module,
                           (c - start) * module, module))
    return shapes


def code39_shapes(payload, cx, top, narrow, height):
    """A Code 39 barcode (wide = 3 narrow, no check digit), centred on cx."""
    bc = code39.Standard39(payload, checksum=0, ratio=3.0)
    bc.validate()
    bc.encode()
    bc.decompose()
    widths = {"b": narrow, "B": 3 * narrow, "s": narrow, "S": 3 * narrow, "i": narrow}
    total = sum(widths[ch] for ch in bc.decomposed)
    x = cx - total / 2
    shapes = []
    for ch in bc.decomposed:
        if ch in "bB":
            shapes.append(("rect", x, top, widths[ch], height))
        x += widths[ch]
    return shapes


def sheet(kind, payload):
    """The shapes of one A4 sheet; `payload` is what the code holds."""
    cx = A4_MM[0] / 2
    shapes = [("text", cx, 30, 20, "bold", TITLE)]
    if kind == "patcht":
        shapes.append(("text", cx, 42, 13, "sans", "Hoja PATCH-T (Code 39)"))
        shapes += code39_shapes(payload, cx, 95, 0.8, 60)
        shapes.append(("text", cx, 175, 18, "mono", "*" + payload + "*"))
    else:
        if kind == "expediente":
            shapes.append(("text", cx, 44, 16, "bold", "Expediente " + payload[len("EXP:"):]))
        else:
            shapes.append(("text", cx, 42, 13, "sans", "Coloque esta hoja delante de cada documento"))
        shapes += qr_shapes(payload, cx, 60, 110)
        shapes.append(("text", cx, 185, 18, "mono", payload))
    shapes.append(("text", cx, 205, 11, "sans", "custodia empieza aquí un documento nuevo"))
    shapes.append(("text", cx, 212, 11, "sans", "y retira esta hoja del lote: no se archiva."))
    shapes.append(("text", cx, 230, 9, "sans", "Imprimir a tamaño real (100 %). No grapar."))
    # Upside down at the foot, for a sheet fed the wrong way round.
    shapes.append(("text180", cx, 277, 12, "bold", TITLE))
    return shapes


def write_pdf(shapes, path):
    for name, file in FONTS.items():
        pdfmetrics.registerFont(TTFont("DejaVu-" + name, os.path.join(FONT_DIR, file)))
    height = A4_MM[1]
    c = canvas.Canvas(path, pagesize=(A4_MM[0] * mm, height * mm), invariant=1)
    c.setTitle(TITLE)
    for shape in shapes:
        if shape[0] == "rect":
            _, x, y, w, h = shape
            c.rect(x * mm, (height - y - h) * mm, w * mm, h * mm, stroke=0, fill=1)
        else:
            kind, x, y, size, font, text = shape
            c.setFont("DejaVu-" + font, size)
            if kind == "text":
                c.drawCentredString(x * mm, (height - y) * mm, text)
            else:
                c.saveState()
                c.translate(x * mm, (height - y) * mm)
                c.rotate(180)
                c.drawCentredString(0, 0, text)
                c.restoreState()
    c.showPage()
    c.save()


def render_png(shapes, dpi):
    """The sheet as an 8-bit gray Pillow image at `dpi` (modules snapped to pixels)."""
    px = dpi / 25.4
    size = (round(A4_MM[0] * px), round(A4_MM[1] * px))
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    for shape in shapes:
        if shape[0] == "rect":
            _, x, y, w, h = shape
            draw.rectangle((round(x * px), round(y * px),
                            round((x + w) * px) - 1, round((y + h) * px) - 1), fill=0)
        else:
            kind, x, y, size_pt, font, text = shape
            face = ImageFont.truetype(os.path.join(FONT_DIR, FONTS[font]), round(size_pt * dpi / 72))
            if kind == "text":
                draw.text((x * px, y * px), text, fill=0, font=face, anchor="ms")
            else:
                # Draw on a strip, turn it, paste it: baseline at y, centred on x.
                box = draw.textbbox((0, 0), text, font=face, anchor="ms")
                strip = Image.new("L", (box[2] - box[0] + 2, box[3] - box[1] + 2), 255)
                ImageDraw.Draw(strip).text((-box[0] + 1, -box[1] + 1), text, fill=0, font=face,
                                           anchor="ms")
                strip = strip.rotate(180)
                # After the turn the baseline is at the strip's top - box[3] offset.
                img.paste(strip, (round(x * px - strip.width / 2), round(y * px - (box[3] + 1))))
    return img


def write_png(shapes, path, dpi):
    render_png(shapes, dpi).save(path, dpi=(dpi, dpi), optimize=True)


def make(kind, payload, out, dpi):
    shapes = sheet(kind, payload)
    if out.lower().endswith(".pdf"):
        write_pdf(shapes, out)
    elif out.lower().endswith(".png"):
        write_png(shapes, out, dpi)
    else:
        sys.exit("separator.py: --out must end in .pdf or .png: " + out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--payload", default="CUSTODIA-SEP",
                    help="the QR code's text (default CUSTODIA-SEP)")
    ap.add_argument("--case", metavar="ID",
                    help="a case-file sheet: QR 'EXP:ID' (ID: 1-64 of A-Z a-z 0-9 . _ / -)")
    ap.add_argument("--patch-t", action="store_true", help="a Code 39 'PATCHT' sheet")
    ap.add_argument("--out", help="output file, .pdf or .png")
    ap.add_argument("--dpi", type=int, default=300, help="PNG resolution (default 300)")
    ap.add_argument("--testdata", metavar="DIR",
                    help="write the capture/testdata fixtures (150-dpi PNGs) into DIR")
    args = ap.parse_args()

    if args.testdata:
        for name, kind, payload in [("separator_qr.png", "separador", "CUSTODIA-SEP"),
                                    ("separator_exp.png", "expediente", "EXP:2024-0001"),
                                    ("separator_patcht.png", "patcht", "PATCHT"),
                                    # An id with a space: not a separator (docs/separators.md).
                                    ("separator_exp_bad.png", "expediente", "EXP:2024 0001")]:
            write_png(sheet(kind, payload), os.path.join(args.testdata, name), 150)
        return
    if not args.out:
        ap.error("--out (or --testdata) is required")
    if args.case is not None and args.patch_t:
        ap.error("--case and --patch-t make different sheets; choose one")
    if args.case is not None:
        if not CASE_ID.fullmatch(args.case):
            ap.error("--case: an id is 1-64 characters of A-Z a-z 0-9 . _ / -: " + repr(args.case))
        make("expediente", "EXP:" + args.case, args.out, args.dpi)
    elif args.patch_t:
        make("patcht", "PATCHT", args.out, args.dpi)
    else:
        if not args.payload:
            ap.error("--payload must not be empty")
        make("separador", args.payload, args.out, args.dpi)


if __name__ == "__main__":
    main()
