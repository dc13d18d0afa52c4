#!/usr/bin/python3
# capture/testdata/make_testdata.py: regenerates the capture test fixtures.
# Run from this folder with Debian's python3 (PIL + reportlab):
#   /usr/bin/python3 make_testdata.py
# The PDFs are made with invariant=1 (no timestamps), so reruns give the
# same bytes.
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_image(size, mode, text, fg, bg):
    img = Image.new(mode, size, bg)
    draw = ImageDraw.Draw(img)
    draw.text((8, size[1] // 3), text, fill=fg, font=ImageFont.truetype(FONT, size[1] // 4))
    return img


# page.png: 200x100 gray, 150 dpi.
text_image((200, 100), "L", "custodia", 0, 255).save("page.png", dpi=(150, 150))
# page.jpg: 240x120 RGB, 200 dpi.
text_image((240, 120), "RGB", "custodia", (20, 20, 120), (250, 250, 240)).save(
    "page.jpg", quality=80, dpi=(200, 200))
# palette.png: 160x80 colormapped (8-bit palette).
text_image((160, 80), "RGB", "palette", (200, 0, 0), (255, 255, 255)).convert(
    "P", palette=Image.ADAPTIVE, colors=4).save("palette.png")
# gray16.png: 64x32, 16 bits per sample, all pixels 0x8000.
Image.new("I;16", (64, 32), 0x8000).save("gray16.png")
# rgba.png: 64x32 fully transparent except a black 8x8 square at (0,0).
rgba = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
rgba.paste((0, 0, 0, 255), (0, 0, 8, 8))
rgba.save("rgba.png")
# three.tif: 3 pages (LZW), 100x50 1-bit, 120x60 gray, 140x70 RGB; 300 dpi.
pages = [
    text_image((100, 50), "L", "uno", 0, 255).convert("1"),
    text_image((120, 60), "L", "dos", 0, 255),
    text_image((140, 70), "RGB", "tres", (0, 0, 0), (255, 255, 255)),
]
pages[0].save("three.tif", save_all=True, append_images=pages[1:], dpi=(300, 300),
              compression="tiff_lzw")

# text.pdf: one A4 page with a real text layer.
c = canvas.Canvas("text.pdf", pagesize=(595, 842), invariant=1)
c.setFont("Helvetica", 14)
c.drawString(72, 760, "Factura número 2024-0042")
c.drawString(72, 740, "Total a pagar: 1.234,56 EUR")
c.showPage()
c.save()

# scan.pdf: one 4x2 inch page holding only an image (no text layer), as a
# scanner would make it; rendered at 300 dpi it is 1200x600 pixels.
scan = text_image((400, 200), "L", "escaneado", 0, 255).convert("1")
c = canvas.Canvas("scan.pdf", pagesize=(4 * inch, 2 * inch), invariant=1)
c.drawImage(ImageReader(scan), 0, 0, width=4 * inch, height=2 * inch)
c.showPage()
c.save()

# two_pages.pdf: a text page, then an image-only page.
c = canvas.Canvas("two_pages.pdf", pagesize=(4 * inch, 2 * inch), invariant=1)
c.setFont("Helvetica", 12)
c.drawString(20, 100, "Albarán de entrega número 77")
c.showPage()
c.drawImage(ImageReader(scan), 0, 0, width=4 * inch, height=2 * inch)
c.showPage()
c.save()

# rotated.pdf: reportlab's setPageRotation(90) writes a 2x4-inch media box
# with /Rotate 90, shown (and rendered at 300 dpi) as 4x2 inches, 1200x600.
c = canvas.Canvas("rotated.pdf", pagesize=(4 * inch, 2 * inch), invariant=1)
c.setPageRotation(90)
c.drawImage(ImageReader(scan), 0, 0, width=4 * inch, height=2 * inch)
c.showPage()
c.save()
