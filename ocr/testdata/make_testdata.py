#!/usr/bin/python3
# ocr/testdata/make_testdata.py: regenerates the OCR test pages.
# Run from this folder with Debian's python3 (PIL): /usr/bin/python3 make_testdata.py
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def page(name, lines):
    # 42 px DejaVu Sans is about 10 pt at 300 dpi, the size of a printed form.
    font = ImageFont.truetype(FONT, 42)
    img = Image.new("L", (1240, 90 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((60, 50 + 80 * i), line, fill=0, font=font)
    # Antialiased gray, as a 300-dpi scanner gives; 16 gray levels
    # in a 4-bit palette keep the file small.
    img.quantize(16).save(name, dpi=(300, 300), optimize=True, bits=4)


page("factura.png", [
    "Facturación nº 2024-0042",
    "Número de cliente: 48213",
    "Total a pagar: 1.234,56 €",
])
page("albaran.png", [
    "Albarán de entrega",
    "Dirección: Calle Mayor 7, Logroño",
])
