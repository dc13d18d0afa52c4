#!/usr/bin/env python3
"""Synthetic Spanish back-office documents for custodia, with ground truth.

Makes fictitious but realistic documents of seven types (factura, dni,
justificante_bancario, nomina, contrato, reclamacion, albaran), each as a
born-digital PDF (real text layer) and/or as a degraded 300-dpi "scan"
(skew, rotation, blur, noise, JPEG artefacts, dark borders, uneven light),
and beside every file a <name>.expected.json with the exact text drawn and
the document's fields in canonical form.

Needs only Debian's python3 with python3-reportlab, python3-pil,
python3-numpy and fonts-dejavu-core (scripts/install_deps.sh --samples).

Examples
  # the committed sample set (16 files), exactly as in the repository
  /usr/bin/python3 samples/generate.py --out samples

  # an evaluation set: 140 documents, PDF and scan of each, hard degradation
  /usr/bin/python3 samples/generate.py --count 140 --seed 9001 \\
      --profile hard --out /tmp/eval

  # the issue-4 evaluation set for bench/ocr_eval.sh: 64 pages (8 documents
  # of each type), one gray JPEG/PNG per page with a .gt.txt beside it and a
  # manifest.json; its own seed (60613) and names; never committed
  /usr/bin/python3 samples/generate.py --profile eval --out /tmp/ocr-eval

  # check identifiers, sums and files of a generated folder (an eval folder:
  # its manifest, images, dpi and ground truth)
  /usr/bin/python3 samples/generate.py --check --out samples

  # OCR every upright scan with tesseract and print its CER (slow)
  /usr/bin/python3 samples/generate.py --ocr-check --out samples

Every person, company, address and number is invented; identifiers are
generated with the real check-digit algorithms so that they validate.
"""

import argparse
import hashlib
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from decimal import Decimal, ROUND_HALF_UP

GENERATOR_VERSION = "1"
DEFAULT_SEED = 2024
TYPES = ["factura", "dni", "justificante_bancario", "nomina", "contrato",
         "reclamacion", "albaran"]

A4W, A4H = 595.2756, 841.8898  # points
NBSP = "\u00a0"
DPI = 300

# ---------------------------------------------------------------------------
# Identifiers: generators and validators
# ---------------------------------------------------------------------------

NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
CIF_LETTER_CONTROL = "JABCDEFGHI"
CCC_WEIGHTS = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
# Province codes that appear in CIFs (first two digits); a representative subset.
CIF_PROVINCES = ["01", "02", "03", "08", "14", "15", "18", "20", "28", "29",
                 "30", "31", "33", "36", "39", "41", "46", "47", "48", "50"]


def nif_letter(number):
    return NIF_LETTERS[number % 23]


def make_dni(rng):
    n = rng.randrange(1_000_000, 99_999_999)
    return f"{n:08d}{nif_letter(n)}"


def make_nie(rng):
    prefix = rng.choice("XXYYZ")
    n = rng.randrange(0, 10_000_000)
    value = int(str("XYZ".index(prefix)) + f"{n:07d}")
    return f"{prefix}{n:07d}{nif_letter(value)}"


def cif_control_digit(digits7):
    even = sum(int(d) for d in digits7[1::2])
    odd = sum(sum(divmod(2 * int(d), 10)) for d in digits7[0::2])
    return (10 - (even + odd) % 10) % 10


def make_cif(rng, letter="B"):
    digits = rng.choice(CIF_PROVINCES) + f"{rng.randrange(0, 100000):05d}"
    c = cif_control_digit(digits)
    if letter in "NPQRSW":
        ctrl = CIF_LETTER_CONTROL[c]
    else:
        ctrl = str(c)
    return f"{letter}{digits}{ctrl}"


def ccc_digit(ten):
    s = sum(int(d) * w for d, w in zip(ten, CCC_WEIGHTS))
    d = 11 - s % 11
    return 0 if d == 11 else 1 if d == 10 else d


def iban_check(country, bban):
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return 98 - int(numeric) % 97


def make_iban_es(rng, bank=None):
    bank = bank or f"{rng.randrange(100, 9999):04d}"
    branch = f"{rng.randrange(1, 9999):04d}"
    account = f"{rng.randrange(0, 10**10):010d}"
    dc = f"{ccc_digit('00' + bank + branch)}{ccc_digit(account)}"
    bban = bank + branch + dc + account
    return f"ES{iban_check('ES', bban):02d}{bban}"


def make_cups(rng, distributor=None):
    distributor = distributor or f"0{rng.randrange(21, 999):03d}"
    n = distributor + f"{rng.randrange(0, 10**12):012d}"
    r = int(n) % 529
    return f"ES{n}{NIF_LETTERS[r // 23]}{NIF_LETTERS[r % 23]}"


def ss_number(rng, province):
    """Número de afiliación / CCC style: PP + N + mod-97 control (2 digits)."""
    body = rng.randrange(10**7, 10**8)
    ctrl = int(f"{province}{body}") % 97 if body >= 10**7 else 0
    return f"{province}/{body}/{ctrl:02d}"


def ccc_empresa(rng, province):
    body = rng.randrange(10**6, 10**7)
    ctrl = int(f"{province}{body}") % 97
    return f"{province} {body} {ctrl:02d}"


def valid_dni(v):
    return (len(v) == 9 and v[:8].isdigit()
            and v[8] == nif_letter(int(v[:8])))


def valid_nie(v):
    return (len(v) == 9 and v[0] in "XYZ" and v[1:8].isdigit()
            and v[8] == nif_letter(int(str("XYZ".index(v[0])) + v[1:8])))


def valid_cif(v):
    if len(v) != 9 or v[0] not in "ABCDEFGHJNPQRSUVW" or not v[1:8].isdigit():
        return False
    c = cif_control_digit(v[1:8])
    if v[0] in "NPQRSW":
        return v[8] == CIF_LETTER_CONTROL[c]
    if v[0] in "ABEH":
        return v[8] == str(c)
    return v[8] in (str(c), CIF_LETTER_CONTROL[c])


def valid_klm(v):
    """NIF of K/L/M type (minors, non-resident Spaniards, foreigners without NIE)."""
    return (len(v) == 9 and v[0] in "KLM" and v[1:8].isdigit()
            and v[8] == nif_letter(int(v[1:8])))


def valid_nif(v):
    return valid_dni(v) or valid_nie(v) or valid_cif(v) or valid_klm(v)


def valid_iban(v):
    if (len(v) < 15 or not v.isascii() or not v.isalnum() or not v[:2].isalpha()
            or not v[2:4].isdigit()):
        return False
    numeric = "".join(str(int(ch, 36)) for ch in v[4:] + v[:4])
    if int(numeric) % 97 != 1:
        return False
    if v.startswith("ES"):
        if len(v) != 24 or not v[4:].isdigit():
            return False
        bank, branch, dc, acc = v[4:8], v[8:12], v[12:14], v[14:]
        return dc == f"{ccc_digit('00' + bank + branch)}{ccc_digit(acc)}"
    return True


def valid_cups(v):
    if len(v) != 20 or not v.startswith("ES") or not v[2:18].isdigit():
        return False
    r = int(v[2:18]) % 529
    return v[18:] == NIF_LETTERS[r // 23] + NIF_LETTERS[r % 23]


def self_test_validators():
    """Known public examples, and round trips of the generators."""
    assert valid_dni("12345678Z") and not valid_dni("12345678A")
    assert valid_nif("M1234567L") and not valid_cif("M1234567L")
    assert valid_iban("ES9121000418450200051332")
    assert valid_iban("GB82WEST12345698765432")
    assert not valid_iban("ES9121000418450200051333")
    assert ccc_digit("0021000418") == 4 and ccc_digit("0200051332") == 5
    rng = random.Random(1)
    for _ in range(2000):
        assert valid_dni(make_dni(rng))
        assert valid_nie(make_nie(rng))
        for letter in "ABEHJNPQRSUVW":
            assert valid_cif(make_cif(rng, letter))
        assert valid_iban(make_iban_es(rng))
        assert valid_cups(make_cups(rng))


# ---------------------------------------------------------------------------
# Spanish formatting
# ---------------------------------------------------------------------------

MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
          "agosto", "septiembre", "octubre", "noviembre", "diciembre"]
CENT = Decimal("0.01")


def money(x):
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_num(x, thousands=True):
    x = money(x)
    sign = "-" if x < 0 else ""
    ent, dec = f"{abs(x):.2f}".split(".")
    if thousands:
        groups = []
        while len(ent) > 3:
            groups.insert(0, ent[-3:])
            ent = ent[:-3]
        groups.insert(0, ent)
        ent = ".".join(groups)
    return f"{sign}{ent},{dec}"


def fmt_eur(x, style="sym"):
    if style == "EUR":
        return f"{fmt_num(x)} EUR"
    return f"{fmt_num(x)} €"


def fmt_pct(p):
    p = Decimal(p)
    s = f"{p:.2f}".replace(".", ",")
    return f"{s} %"


def fmt_date(d, style="num"):
    if style == "long":
        return f"{d.day} de {MONTHS[d.month - 1]} de {d.year}"
    if style == "dash":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def fmt_iban(v):
    return " ".join(v[i:i + 4] for i in range(0, len(v), 4))


def canon_amount(x):
    return f"{money(x):.2f}"


_UNITS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete",
          "ocho", "nueve", "diez", "once", "doce", "trece", "catorce",
          "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve",
          "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro",
          "veinticinco", "veintiséis", "veintisiete", "veintiocho",
          "veintinueve"]
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta",
         7: "setenta", 8: "ochenta", 9: "noventa"}
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos",
             4: "cuatrocientos", 5: "quinientos", 6: "seiscientos",
             7: "setecientos", 8: "ochocientos", 9: "novecientos"}


def _apocope(words):
    if words.endswith("veintiuno"):
        return words[:-len("veintiuno")] + "veintiún"
    if words.endswith("uno"):
        return words[:-3] + "un"
    return words


def num_to_words(n):
    """Spanish cardinal, 0 <= n < 10**9."""
    if n < 30:
        return _UNITS[n]
    if n < 100:
        t, u = divmod(n, 10)
        return _TENS[t] + (f" y {_UNITS[u]}" if u else "")
    if n < 1000:
        h, r = divmod(n, 100)
        if n == 100:
            return "cien"
        return _HUNDREDS[h] + (f" {num_to_words(r)}" if r else "")
    if n < 10**6:
        t, r = divmod(n, 1000)
        head = "mil" if t == 1 else _apocope(num_to_words(t)) + " mil"
        return head + (f" {num_to_words(r)}" if r else "")
    m, r = divmod(n, 10**6)
    head = "un millón" if m == 1 else _apocope(num_to_words(m)) + " millones"
    return head + (f" {num_to_words(r)}" if r else "")


def amount_in_words(x):
    x = money(x)
    euros = int(x)
    cents = int((x - euros) * 100)
    w = _apocope(num_to_words(euros)) + (" euro" if euros == 1 else " euros")
    if euros and euros % 10**6 == 0:
        w = w.replace(" euros", " de euros")
    if cents:
        w += " con " + _apocope(num_to_words(cents)) + \
            (" céntimo" if cents == 1 else " céntimos")
    return w.upper()


# ---------------------------------------------------------------------------
# Fictitious data
# ---------------------------------------------------------------------------

NAMES_F = ["María", "Lucía", "Carmen", "Ana", "Isabel", "Laura", "Marta",
           "Sofía", "Paula", "Inés", "Rocío", "Begoña", "Nuria", "Ángela",
           "Pilar", "Elena", "Raquel", "Cristina", "Belén", "Ainhoa",
           "Noelia", "Concepción", "Mónica", "Irene", "Julia", "Lourdes",
           "Nerea", "Araceli", "Remedios", "Iciar"]
NAMES_M = ["José", "Antonio", "Manuel", "Francisco", "Javier", "David",
           "Juan", "Daniel", "Carlos", "Miguel", "Álvaro", "Raúl", "Jesús",
           "Ramón", "Óscar", "Íñigo", "Sergio", "Pablo", "Adrián", "Rubén",
           "Andrés", "Joaquín", "Tomás", "Fermín", "Víctor", "Germán",
           "Martín", "Nicolás", "Agustín", "Sebastián"]
COMPOUND_F = ["María José", "María Ángeles", "Ana Belén", "María Jesús",
              "Rosa María", "María del Carmen"]
COMPOUND_M = ["José Luis", "Juan Carlos", "José Manuel", "Francisco Javier",
              "Miguel Ángel", "José María"]
SURNAMES = ["García", "Fernández", "González", "Rodríguez", "López",
            "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez",
            "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
            "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres",
            "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano",
            "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado",
            "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias",
            "Medina", "Garrido", "Cortés", "Castillo", "Lozano", "Cano",
            "Prieto", "Méndez", "Calvo", "Gallego", "Vidal", "León",
            "Márquez", "Herrera", "Peña", "Cabrera", "Carrasco", "Ibáñez",
            "Benítez", "Román", "Sáez", "Ordóñez", "Bermúdez", "Zúñiga",
            "Argüelles", "Echevarría", "Muñiz", "Valbuena", "Quiñones",
            "Pascual", "Santana", "Beltrán", "Esteban", "Rivas"]
STREET_TYPES = ["Calle", "Calle", "Calle", "Avenida", "Plaza", "Paseo",
                "Ronda", "Camino", "Travesía"]
STREETS = ["Mayor", "de la Constitución", "del Sol", "Real", "de Alcalá",
           "San Fernando", "de los Almendros", "Nueva", "del Carmen",
           "de Cervantes", "de Góngora", "de la Ermita",
           "Juan Ramón Jiménez", "de Andalucía", "de la Iglesia",
           "del Príncipe", "Núñez de Balboa", "de la Paz", "de Colón",
           "de Sagasta", "del Pilar", "de la Alameda", "de los Olivos",
           "Ramón y Cajal", "de Castilla", "de España", "de la Reina Sofía",
           "de Doña Urraca", "del Doctor Fleming", "de Miguel Hernández",
           "de Gaudí", "de la Marina", "del Agua", "de Ordoño II",
           "de Santa Úrsula", "de la Cigüeña"]
CITIES = [  # (city, province, postcode prefix)
    ("Madrid", "Madrid", "28"), ("Barcelona", "Barcelona", "08"),
    ("Valencia", "Valencia", "46"), ("Sevilla", "Sevilla", "41"),
    ("Zaragoza", "Zaragoza", "50"), ("Málaga", "Málaga", "29"),
    ("Murcia", "Murcia", "30"), ("Palma", "Illes Balears", "07"),
    ("Bilbao", "Bizkaia", "48"), ("Alicante", "Alicante", "03"),
    ("Córdoba", "Córdoba", "14"), ("Valladolid", "Valladolid", "47"),
    ("Vigo", "Pontevedra", "36"), ("Gijón", "Asturias", "33"),
    ("A Coruña", "A Coruña", "15"), ("Granada", "Granada", "18"),
    ("Vitoria-Gasteiz", "Álava", "01"), ("Elche", "Alicante", "03"),
    ("Oviedo", "Asturias", "33"), ("Cartagena", "Murcia", "30"),
    ("Jerez de la Frontera", "Cádiz", "11"), ("Móstoles", "Madrid", "28"),
    ("Santander", "Cantabria", "39"), ("Burgos", "Burgos", "09"),
    ("Castellón de la Plana", "Castellón", "12"), ("Logroño", "La Rioja", "26"),
    ("Badajoz", "Badajoz", "06"), ("Salamanca", "Salamanca", "37"),
    ("León", "León", "24"), ("Cáceres", "Cáceres", "10"),
    ("Ávila", "Ávila", "05"), ("Pamplona", "Navarra", "31"),
    ("Donostia-San Sebastián", "Gipuzkoa", "20"), ("Jaén", "Jaén", "23"),
    ("Almería", "Almería", "04"), ("Albacete", "Albacete", "02"),
    ("Toledo", "Toledo", "45"), ("Cuenca", "Cuenca", "16"),
    ("Ourense", "Ourense", "32"), ("Huesca", "Huesca", "22"),
]
COMPANY_SECTORS = ["Distribuciones", "Suministros Técnicos", "Construcciones",
                   "Servicios Informáticos", "Talleres", "Asesoría",
                   "Papelería", "Limpiezas", "Transportes", "Reformas",
                   "Consultoría", "Climatización", "Instalaciones Eléctricas",
                   "Carpintería", "Artes Gráficas", "Logística",
                   "Mantenimientos", "Ferretería Industrial"]
COMPANY_PLACES = ["Peñalara", "del Ebro", "Albaicín", "Nervión", "Guadarrama",
                  "Cantábrico", "Montseny", "La Mancha", "Tormes",
                  "Sierra Nevada", "Moncayo", "del Miño", "Bidasoa",
                  "Aljarafe", "Garraf", "Órbigo", "Úbeda", "Gredos",
                  "Almanzora", "Urbión", "Añana", "Pirineo", "Doñana",
                  "Valdeón", "Teide", "Alcudia", "Cinca", "Jiloca"]
COMPANY_FORMS = [("S.L.", "B"), ("S.L.", "B"), ("S.L.", "B"), ("S.A.", "A"),
                 ("S.L.U.", "B"), ("S. Coop.", "F")]
BANKS = [("Banco Meridional, S.A.", "BMERESMM"),
         ("Banco del Estrecho, S.A.", "BESTESBB"),
         ("Nova Banca Cantábrica, S.A.", "NOBCES2S"),
         ("Caja Solidaria del Duero, S.C.C.", "CSDUESVV"),
         ("Banca Ibérica Digital, S.A.", "BIBDESMM")]
ENERGY = ["Energías del Norte Comercializadora, S.A.",
          "Luz y Gas Mediterráneo, S.L.",
          "Iberluz Comercial de Energía, S.A.",
          "Electra Serrana Comercializadora, S.L."]


def pick_city(rng):
    return rng.choice(CITIES)


def make_address(rng, city=None):
    city = city or pick_city(rng)
    st = f"{rng.choice(STREET_TYPES)} {rng.choice(STREETS)}"
    num = rng.randrange(1, 160)
    extra = rng.choice(["", "", f", {rng.randrange(1, 9)}º {rng.choice('ABCD')}",
                        f", {rng.randrange(1, 6)}º izda.",
                        f", {rng.randrange(1, 6)}º dcha.", ", bajo",
                        f", nave {rng.randrange(1, 30)}"])
    cp = f"{city[2]}{rng.randrange(1, 999):03d}"
    return {"street": f"{st}, {num}{extra}", "cp": cp, "city": city[0],
            "province": city[1]}


def addr_line2(a):
    if a["city"] == a["province"]:
        return f"{a['cp']} {a['city']}"
    return f"{a['cp']} {a['city']} ({a['province']})"


def make_person(rng, allow_nie=True):
    sex = rng.choice("FM")
    if rng.random() < 0.2:
        nombre = rng.choice(COMPOUND_F if sex == "F" else COMPOUND_M)
    else:
        nombre = rng.choice(NAMES_F if sex == "F" else NAMES_M)
    ap1, ap2 = rng.sample(SURNAMES, 2)
    nif = make_nie(rng) if allow_nie and rng.random() < 0.15 else make_dni(rng)
    return {"nombre": nombre, "ap1": ap1, "ap2": ap2, "sex": sex, "nif": nif,
            "address": make_address(rng)}


def full_name(p):
    return f"{p['nombre']} {p['ap1']} {p['ap2']}"


def make_company(rng, sector=None, form=None):
    sector = sector or rng.choice(COMPANY_SECTORS)
    form, letter = form or rng.choice(COMPANY_FORMS)
    place = rng.choice(COMPANY_PLACES)
    name = f"{sector} {place} {form}"
    city = pick_city(rng)
    reg_city = city[1] if city[1] not in ("Illes Balears",) else "Palma"
    return {"name": name, "short": f"{sector} {place}", "cif": make_cif(rng, letter),
            "address": make_address(rng, city), "sector": sector,
            "phone": f"9{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            "registro": (f"Inscrita en el Registro Mercantil de {reg_city}, "
                         f"tomo {rng.randrange(1000, 45000)}, folio "
                         f"{rng.randrange(1, 220)}, hoja {rng.randrange(10000, 99999)}."),
            "iban": make_iban_es(rng)}


def rand_date(rng, start=date(2022, 1, 3), end=date(2025, 6, 27)):
    return start + timedelta(days=rng.randrange((end - start).days))


def mobile(rng):
    return f"6{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"


def ascii_fold(s):
    table = str.maketrans("ÁÉÍÓÚÜÑáéíóúüñ", "AEIOUUNaeiouun")
    return s.translate(table)


# ---------------------------------------------------------------------------
# Fonts and the page model
# ---------------------------------------------------------------------------

FONT_FILES = {
    "sans": "DejaVuSans.ttf", "sans-b": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf", "serif-b": "DejaVuSerif-Bold.ttf",
    "cond": "DejaVuSansCondensed.ttf", "cond-b": "DejaVuSansCondensed-Bold.ttf",
    "mono": "DejaVuSansMono.ttf", "mono-b": "DejaVuSansMono-Bold.ttf",
}
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/TTF", "/usr/local/share/fonts",
             "/Library/Fonts", os.path.expanduser("~/.fonts")]
_font_dir = None


def font_path(name):
    return os.path.join(_font_dir, FONT_FILES[name])


def init_fonts(explicit=None):
    global _font_dir
    dirs = [explicit] if explicit else FONT_DIRS
    for d in dirs:
        if d and all(os.path.exists(os.path.join(d, f)) for f in FONT_FILES.values()):
            _font_dir = d
            break
    else:
        sys.exit("generate.py: DejaVu fonts not found (looked in "
                 + ", ".join(d for d in dirs if d)
                 + "); install fonts-dejavu-core or pass --font-dir DIR")
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    rl_config.useA85 = 0  # binary streams: smaller files, JPEG bytes kept as they are
    for name in FONT_FILES:
        pdfmetrics.registerFont(TTFont("DV-" + name, font_path(name)))


def text_width(s, font, size):
    from reportlab.pdfbase import pdfmetrics
    return pdfmetrics.stringWidth(s, "DV-" + font, size)


class Layout:
    """Items on pages, in points with y measured downward from the top.

    Text items carry their baseline; items whose baselines are equal form one
    line of the ground-truth text, read left to right.
    """

    def __init__(self, style, top=60, bottom=70, left=56, right=56):
        self.pages = [[]]
        self.style = style
        self.top, self.bottom, self.left, self.right = top, bottom, left, right
        self.y = top
        self.width = A4W - left - right

    @property
    def items(self):
        return self.pages[-1]

    def text(self, x, y, s, font=None, size=10, align="l", color=(0, 0, 0)):
        font = font or self.style["body"]
        assert "  " not in s and s == s.strip() and s, repr(s)
        self.items.append({"k": "text", "x": x, "y": y, "s": s, "font": font,
                           "size": size, "align": align, "color": color})

    def line(self, x1, y1, x2, y2, width=0.8, color=(0, 0, 0)):
        self.items.append({"k": "line", "p": (x1, y1, x2, y2), "w": width,
                           "color": color})

    def rect(self, x, y, w, h, stroke=(0, 0, 0), fill=None, width=0.8, radius=0):
        self.items.append({"k": "rect", "p": (x, y, w, h), "stroke": stroke,
                           "fill": fill, "w": width, "r": radius})

    def ellipse(self, x, y, w, h, fill):
        self.items.append({"k": "ellipse", "p": (x, y, w, h), "fill": fill})

    def poly(self, pts, width=0.4, color=(0.8, 0.8, 0.8)):
        self.items.append({"k": "poly", "pts": pts, "w": width, "color": color})

    def ensure(self, h):
        if self.y + h > A4H - self.bottom:
            self.new_page()

    def new_page(self):
        self.pages.append([])
        self.y = self.top

    def row(self, s, size=None, font=None, lead=None, x=None, color=(0, 0, 0),
            align="l"):
        size = size or self.style["size"]
        lead = lead or size * 1.45
        self.ensure(lead)
        self.y += lead
        xx = self.left if x is None else x
        if align == "r":
            xx = A4W - self.right
        elif align == "c":
            xx = A4W / 2
        self.text(xx, self.y, s, font=font, size=size, align=align, color=color)

    def cells(self, cells, size=None, font=None, lead=None):
        """cells: list of (x, text, align); one baseline."""
        size = size or self.style["size"]
        lead = lead or size * 1.45
        self.ensure(lead)
        self.y += lead
        for x, s, align in cells:
            if s:
                self.text(x, self.y, s, font=font, size=size, align=align)

    def wrap(self, s, width, font, size):
        """Greedy wrap on plain spaces; NBSP (U+00A0) binds words together."""
        words, lines, cur = [w for w in s.split(" ") if w], [], ""
        for w in words:
            cand = f"{cur} {w}" if cur else w
            if cur and text_width(cand.replace(NBSP, " "), font, size) > width:
                lines.append(cur)
                cur = w
            else:
                cur = cand
        if cur:
            lines.append(cur)
        return [ln.replace(NBSP, " ") for ln in lines]

    def para(self, s, size=None, font=None, lead=None, x=None, width=None,
             space_before=0):
        size = size or self.style["size"]
        font = font or self.style["body"]
        lead = lead or size * 1.4
        x = self.left if x is None else x
        width = width or (A4W - self.right - x)
        self.y += space_before
        for ln in self.wrap(s, width, font, size):
            self.row(ln, size=size, font=font, lead=lead, x=x)

    def gap(self, h):
        self.y += h

    def hr(self, width=0.8, color=(0, 0, 0), pad=6):
        self.y += pad
        self.line(self.left, self.y, A4W - self.right, self.y, width, color)

    def logo(self, x, y, size, color, rng):
        """A small abstract mark: shapes only, no text."""
        kind = rng.choice(["circles", "bars", "diamond"])
        if kind == "circles":
            self.ellipse(x, y, size, size, fill=color)
            self.ellipse(x + size * 0.45, y + size * 0.2, size * 0.6, size * 0.6,
                         fill=(1, 1, 1))
        elif kind == "bars":
            for i in range(3):
                h = size * (0.5 + 0.25 * i)
                self.rect(x + i * size * 0.36, y + size - h, size * 0.26, h,
                          stroke=None, fill=color)
        else:
            c = size / 2
            self.poly([(x + c, y), (x + size, y + c), (x + c, y + size), (x, y + c),
                       (x + c, y)], width=size * 0.18, color=color)


def text_left(it):
    w = text_width(it["s"], it["font"], it["size"])
    return it["x"] - (w if it["align"] == "r" else w / 2 if it["align"] == "c" else 0)


def page_text(items):
    lines = {}
    for it in items:
        if it["k"] == "text":
            lines.setdefault(round(it["y"], 2), []).append(it)
    out = []
    for y in sorted(lines):
        row = sorted(lines[y], key=text_left)
        out.append(" ".join(it["s"] for it in row))
    return "\n".join(out)


def doc_text(pages):
    return "\f".join(page_text(p) for p in pages)


def pick_style(rng, fonts=None):
    fam = rng.choice(fonts or ["sans", "sans", "serif", "cond"])
    accent = rng.choice([(0.1, 0.2, 0.45), (0.15, 0.35, 0.25), (0.45, 0.1, 0.1),
                         (0.2, 0.2, 0.2), (0.0, 0.3, 0.5)])
    tint = tuple(1 - (1 - c) * 0.12 for c in accent)
    return {"body": fam, "bold": fam + "-b", "size": rng.choice([9.5, 10, 10.5]),
            "accent": accent, "tint": tint}


# ---------------------------------------------------------------------------
# Document builders. Each returns (pages, fields, keywords).
# ---------------------------------------------------------------------------

CATALOG = {
    21: [("Servicio de mantenimiento informático mensual", 90, 450, "u"),
         ("Licencia anual de software de gestión", 120, 900, "u"),
         ("Tóner láser negro compatible", 25, 95, "u"),
         ("Papel A4 80 g/m² (caja de 5 paquetes)", 18, 32, "u"),
         ("Horas de consultoría técnica", 45, 85, "h"),
         ("Instalación de equipo de climatización", 350, 1400, "u"),
         ("Revisión anual de extintores", 12, 30, "u"),
         ("Transporte y montaje", 60, 240, "u"),
         ("Cableado de red categoría 6 (metro lineal)", 2, 6, "m"),
         ("Silla ergonómica de oficina", 110, 340, "u"),
         ("Reparación de persiana motorizada", 80, 260, "u"),
         ("Limpieza de oficinas (servicio mensual)", 280, 1200, "u"),
         ("Diseño de logotipo e identidad corporativa", 400, 1800, "u"),
         ("Auditoría de protección de datos (RGPD)", 350, 1500, "u"),
         ("Asesoramiento fiscal trimestral", 150, 600, "u"),
         ("Impresión de folletos dípticos (1.000 uds.)", 90, 320, "u"),
         ("Sustitución de grifería en baño", 70, 220, "u"),
         ("Material eléctrico diverso", 20, 300, "u"),
         ("Desplazamiento del técnico", 25, 60, "u"),
         ("Disco SSD 1 TB", 70, 140, "u"),
         ("Monitor de 27 pulgadas", 160, 390, "u")],
    10: [("Menú del día (comida de empresa)", 12, 28, "u"),
         ("Servicio de catering para jornada", 300, 2200, "u"),
         ("Reforma de vivienda: mano de obra de albañilería", 35, 55, "h"),
         ("Alojamiento en habitación doble (noche)", 65, 160, "u"),
         ("Transporte de viajeros en autocar", 250, 900, "u"),
         ("Alicatado de cocina (m²)", 18, 40, "m"),
         ("Agua mineral (caja de 12 botellas)", 3, 8, "u")],
    4: [("Libro de texto de Matemáticas, 3º ESO", 28, 45, "u"),
        ("Pan de molde integral", 1, 3, "u"),
        ("Leche entera (brik de 1 l)", 1, 2, "u"),
        ("Huevos frescos (docena)", 2, 4, "u"),
        ("Periódico: suscripción mensual", 15, 30, "u"),
        ("Queso fresco de Burgos (kg)", 5, 11, "kg"),
        ("Fruta y verdura de temporada (kg)", 1, 4, "kg")],
}


def price(rng, lo, hi):
    return money(Decimal(rng.randrange(int(lo * 100), int(hi * 100))) / 100)


def company_header(L, rng, comp, right_block=True):
    st = L.style
    L.logo(L.left, L.y - 2, 26, st["accent"], rng)
    L.y += 14
    L.text(L.left + 36, L.y, comp["name"], font=st["bold"], size=14,
           color=st["accent"])
    L.row(comp["address"]["street"], size=9, x=L.left + 36, lead=13)
    L.row(addr_line2(comp["address"]), size=9, x=L.left + 36, lead=12)
    L.row(f"CIF: {comp['cif']} · Tel.: {comp['phone']}", size=9,
          x=L.left + 36, lead=12)


def build_factura(rng):
    st = pick_style(rng)
    L = Layout(st)
    rate = rng.choice([21] * 6 + [10] * 2 + [4])
    emisor = make_company(rng, sector=rng.choice(
        {21: COMPANY_SECTORS, 10: ["Hostelería", "Reformas", "Catering"],
         4: ["Alimentación", "Librería", "Distribuciones"]}[rate]))
    client_is_company = rng.random() < 0.35
    if client_is_company:
        cc = make_company(rng)
        cli_name, cli_nif, cli_addr = cc["name"], cc["cif"], cc["address"]
    else:
        p = make_person(rng)
        cli_name, cli_nif, cli_addr = full_name(p), p["nif"], p["address"]
    d = rand_date(rng)
    year = d.year
    numero = rng.choice([f"F-{year}/{rng.randrange(1, 2000):04d}",
                         f"{year}-{rng.randrange(1, 99999):06d}",
                         f"FV{year % 100}-{rng.randrange(1, 9999):04d}",
                         f"A/{year}/{rng.randrange(1, 999)}"])
    dstyle = rng.choice(["num", "num", "dash", "long"])
    company_header(L, rng, emisor)
    L.gap(18)
    title = rng.choice(["FACTURA", "FACTURA", "Factura"])
    L.row(title, size=20, font=st["bold"], color=st["accent"], lead=24)
    L.gap(4)
    L.row(f"Nº de factura: {numero}", lead=15)
    L.row(f"Fecha de factura: {fmt_date(d, dstyle)}", lead=15)
    if rng.random() < 0.6:
        L.row(f"Fecha de vencimiento: {fmt_date(d + timedelta(days=30), dstyle)}",
              lead=15)
    L.gap(10)
    L.rect(L.left, L.y + 4, L.width, 74, stroke=None, fill=st["tint"])
    L.row("DATOS DEL CLIENTE", font=st["bold"], size=9.5, x=L.left + 8, lead=16)
    L.row(cli_name, x=L.left + 8, lead=14)
    L.row(f"{'CIF' if client_is_company else 'NIF'}: {cli_nif}", x=L.left + 8,
          lead=14)
    L.row(f"{cli_addr['street']}, {addr_line2(cli_addr)}", x=L.left + 8, lead=14)
    L.gap(22)
    xq, xp, xi = L.left + 330, L.left + 410, A4W - L.right
    L.line(L.left, L.y + 4, A4W - L.right, L.y + 4, 0.6)
    L.cells([(L.left, "Descripción", "l"), (xq, "Cant.", "r"),
             (xp, "Precio", "r"), (xi, "Importe", "r")], font=st["bold"], lead=16)
    L.line(L.left, L.y + 5, A4W - L.right, L.y + 5, 0.6)
    L.gap(4)
    base = Decimal("0")
    items = rng.sample(CATALOG[rate], rng.randrange(2, min(7, len(CATALOG[rate]))))
    for desc, lo, hi, unit in items:
        if unit == "u":
            q = Decimal(rng.choice([1, 1, 1, 2, 3, 4, 5, 10, 12]))
            qs = str(q)
        else:
            q = Decimal(rng.randrange(2, 60)) / 2
            qs = fmt_num(q).rstrip("0").rstrip(",")
        pr = price(rng, lo, hi)
        amt = money(q * pr)
        base += amt
        L.cells([(L.left, desc, "l"), (xq, qs, "r"), (xp, fmt_num(pr), "r"),
                 (xi, fmt_num(amt), "r")], lead=16)
    base = money(base)
    iva = money(base * rate / 100)
    total = base + iva
    L.line(L.left, L.y + 6, A4W - L.right, L.y + 6, 0.6)
    L.gap(8)
    xl = L.left + 280
    L.cells([(xl, "Base imponible:", "l"), (xi, fmt_eur(base), "r")], lead=17)
    L.cells([(xl, f"IVA ({rate} %):", "l"), (xi, fmt_eur(iva), "r")], lead=17)
    L.cells([(xl, "TOTAL FACTURA:", "l"), (xi, fmt_eur(total), "r")],
            font=st["bold"], size=12, lead=20)
    L.gap(20)
    L.row("Forma de pago: transferencia bancaria a 30 días.", lead=15)
    L.row(f"IBAN: {fmt_iban(emisor['iban'])}", lead=15)
    L.y = max(L.y, A4H - 122)
    L.hr(0.4, (0.5, 0.5, 0.5))
    L.para(emisor["registro"], size=7.5, lead=10, space_before=5)
    L.para("Sus datos se tratan para la gestión administrativa y contable "
           "conforme al Reglamento (UE) 2016/679.", size=7.5, lead=10)
    fields = {"numero": numero, "fecha": d.isoformat(), "emisor_cif": emisor["cif"],
              "cliente_nif": cli_nif, "base": canon_amount(base),
              "iva_pct": str(rate), "iva": canon_amount(iva),
              "total": canon_amount(total), "iban": emisor["iban"]}
    kw = ["FACTURA", emisor["short"].split()[-1]]
    return L.pages, fields, kw


def mrz_check(s):
    vals = {c: i for i, c in enumerate("0123456789")}
    vals.update({c: i + 10 for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")})
    vals["<"] = 0
    return str(sum(vals[c] * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10)


def build_dni(rng, variant=None):
    st = {"body": "sans", "bold": "sans-b", "size": 9, "accent": (0.1, 0.2, 0.4),
          "tint": (0.93, 0.95, 0.98)}
    L = Layout(st)
    is_nie = rng.random() < 0.25
    if variant is not None:
        is_nie = variant == "nie"
    p = make_person(rng, allow_nie=False)
    if is_nie:
        p["nif"] = make_nie(rng)
        nat = rng.choice(["COL", "ECU", "ARG", "PER", "VEN", "MEX", "URY"])
    else:
        nat = "ESP"
    birth = rand_date(rng, date(1950, 1, 1), date(2004, 12, 31))
    issue = rand_date(rng, date(2019, 1, 1), date(2024, 12, 31))
    years = 10 if not is_nie else 5
    try:
        expiry = issue.replace(year=issue.year + years)
    except ValueError:
        expiry = issue + timedelta(days=365 * years)
    support = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + \
        f"{rng.randrange(0, 999999):06d}"
    can = f"{rng.randrange(0, 999999):06d}"
    cw, ch = 360, 227
    cx = (A4W - cw) / 2
    dd = lambda x: f"{x.day:02d} {x.month:02d} {x.year}"
    # front
    cy = 70
    L.rect(cx, cy, cw, ch, stroke=(0.3, 0.3, 0.3), fill=(0.95, 0.95, 0.99),
           width=0.8, radius=10)
    for k in range(9):  # light guilloche
        pts = []
        for i in range(61):
            xx = cx + 6 + i * (cw - 12) / 60
            yy = cy + 30 + k * 22 + 6 * math.sin(i / 4.0 + k)
            pts.append((xx, yy))
        L.poly(pts, 0.5, (0.85, 0.87, 0.95))
    L.text(cx + 14, cy + 22, "ESPAÑA", font="sans-b", size=11, color=(0.5, 0.1, 0.1))
    L.text(cx + cw - 14, cy + 22,
           "TARJETA DE IDENTIDAD DE EXTRANJERO" if is_nie
           else "DOCUMENTO NACIONAL DE IDENTIDAD",
           font="sans-b", size=9, align="r", color=(0.1, 0.1, 0.3))
    L.rect(cx + 14, cy + 40, 92, 120, stroke=(0.5, 0.5, 0.5), fill=(0.82, 0.82, 0.82))
    L.ellipse(cx + 38, cy + 58, 44, 52, fill=(0.62, 0.62, 0.62))
    L.rect(cx + 24, cy + 116, 72, 44, stroke=None, fill=(0.62, 0.62, 0.62), radius=18)
    x2 = cx + 122
    lab = dict(font="sans", size=6.5, color=(0.25, 0.25, 0.4))
    val = dict(font="sans-b", size=10)
    L.text(x2, cy + 50, "APELLIDOS / SURNAMES", **lab)
    L.text(x2, cy + 62, p["ap1"].upper(), **val)
    L.text(x2, cy + 74, p["ap2"].upper(), **val)
    L.text(x2, cy + 90, "NOMBRE / NAME", **lab)
    L.text(x2, cy + 102, p["nombre"].upper(), **val)
    L.text(x2, cy + 118, "SEXO / SEX", **lab)
    L.text(x2 + 70, cy + 118, "NACIONALIDAD / NATIONALITY", **lab)
    L.text(x2, cy + 130, p["sex"], **val)
    L.text(x2 + 70, cy + 130, nat, **val)
    L.text(x2, cy + 146, "FECHA DE NACIMIENTO / DATE OF BIRTH", **lab)
    L.text(x2, cy + 158, dd(birth), **val)
    L.text(x2, cy + 174, "NÚM. SOPORTE", **lab)
    L.text(x2 + 90, cy + 174, "VÁLIDO HASTA / EXPIRY", **lab)
    L.text(cx + 14, cy + 186, ("NIE " if is_nie else "DNI ") + p["nif"],
           font="sans-b", size=11)
    L.text(x2, cy + 186, support, **val)
    L.text(x2 + 90, cy + 186, dd(expiry), **val)
    L.text(cx + cw / 2, cy + 212, "ESPÉCIMEN - MUESTRA SIN VALOR",
           font="sans-b", size=10, align="c", color=(0.75, 0.05, 0.05))
    # back
    cy = 350
    L.rect(cx, cy, cw, ch, stroke=(0.3, 0.3, 0.3), fill=(0.97, 0.96, 0.93),
           width=0.8, radius=10)
    a = p["address"]
    born = pick_city(rng)
    L.text(cx + 14, cy + 22, "DOMICILIO", **lab)
    L.text(cx + 14, cy + 34, a["street"].upper(), **val)
    L.text(cx + 14, cy + 46, f"{a['cp']} {a['city'].upper()}", **val)
    L.text(cx + 14, cy + 58, a["province"].upper(), **val)
    L.text(cx + 14, cy + 74, "LUGAR DE NACIMIENTO", **lab)
    if is_nie:
        L.text(cx + 14, cy + 86, {"COL": "BOGOTÁ", "ECU": "QUITO",
                                  "ARG": "CÓRDOBA", "PER": "LIMA",
                                  "VEN": "CARACAS", "MEX": "GUADALAJARA",
                                  "URY": "MONTEVIDEO"}[nat], **val)
        L.text(cx + 14, cy + 98, {"COL": "COLOMBIA", "ECU": "ECUADOR",
                                  "ARG": "ARGENTINA", "PER": "PERÚ",
                                  "VEN": "VENEZUELA", "MEX": "MÉXICO",
                                  "URY": "URUGUAY"}[nat], **val)
    else:
        L.text(cx + 14, cy + 86, born[0].upper(), **val)
        L.text(cx + 14, cy + 98, born[1].upper(), **val)
    L.text(cx + 14, cy + 114, "HIJO/A DE", **lab)
    L.text(cx + 14, cy + 126,
           f"{rng.choice(NAMES_M).upper()} / {rng.choice(NAMES_F).upper()}", **val)
    L.text(cx + cw - 14, cy + 126, f"CAN {can}", font="sans-b", size=9, align="r")
    # MRZ (TD1)
    num = p["nif"]
    l1 = ("IR" if is_nie else "ID") + "ESP" + support + mrz_check(support) + num
    l1 = (l1 + "<" * 30)[:30]
    yymmdd = lambda x: f"{x.year % 100:02d}{x.month:02d}{x.day:02d}"
    l2 = (yymmdd(birth) + mrz_check(yymmdd(birth)) + p["sex"] + yymmdd(expiry)
          + mrz_check(yymmdd(expiry)) + nat)
    l2 = (l2 + "<" * 29)[:29]
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += mrz_check(composite)
    name_mrz = ascii_fold(f"{p['ap1']}<{p['ap2']}<<{p['nombre']}").upper()
    name_mrz = name_mrz.replace(" ", "<").replace("-", "<")
    l3 = (name_mrz + "<" * 30)[:30]
    for i, ln in enumerate((l1, l2, l3)):
        L.text(cx + 30, cy + 166 + i * 17, ln, font="mono", size=11.5)
    L.text(cx + cw / 2, cy + 217, "ESPÉCIMEN - MUESTRA SIN VALOR",
           font="sans-b", size=10, align="c", color=(0.75, 0.05, 0.05))
    # a line on the photocopy page
    L.text(A4W / 2, 640,
           "Documento sintético generado para pruebas. Personas y números ficticios.",
           font="sans", size=8, align="c", color=(0.3, 0.3, 0.3))
    fields = {"numero": p["nif"], "nombre": p["nombre"].upper(),
              "apellidos": f"{p['ap1']} {p['ap2']}".upper(),
              "nacimiento": birth.isoformat(), "caducidad": expiry.isoformat()}
    kw = (["EXTRANJERO", "ESPÉCIMEN"] if is_nie else ["IDENTIDAD", "ESPÉCIMEN"]) + \
        [p["nif"]]
    return L.pages, fields, kw


def build_justificante(rng):
    st = pick_style(rng, ["sans", "cond"])
    L = Layout(st)
    bank_name, bic = rng.choice(BANKS)
    bank_code = f"{rng.randrange(100, 3200):04d}"
    orden = make_person(rng)
    if rng.random() < 0.6:
        benef = make_company(rng)
        ben_name = benef["name"]
        ben_iban = benef["iban"]
    else:
        bp = make_person(rng)
        ben_name = full_name(bp)
        ben_iban = make_iban_es(rng)
    iban_o = make_iban_es(rng, bank_code)
    d = rand_date(rng)
    importe = price(rng, 15, 6000)
    ref = f"{d.year}{d.month:02d}{d.day:02d}{rng.randrange(0, 10**8):08d}"
    comision = rng.choice([Decimal("0"), Decimal("0"), Decimal("1.50"), Decimal("3.00")])
    tipo = rng.choice(["SEPA ordinaria", "SEPA inmediata"])
    concepto = rng.choice([f"Pago factura F-{d.year}/{rng.randrange(1, 900):04d}",
                           "Alquiler local " + MONTHS[d.month - 1],
                           "Cuota comunidad de propietarios",
                           "Devolución de fianza", "Honorarios profesionales",
                           f"Pedido nº {rng.randrange(10000, 99999)}"])
    L.logo(L.left, L.y - 4, 30, st["accent"], rng)
    L.y += 16
    L.text(L.left + 42, L.y, bank_name.split(",")[0], font=st["bold"], size=16,
           color=st["accent"])
    L.row("Banca para empresas y particulares", size=8.5, x=L.left + 42, lead=12,
          color=(0.35, 0.35, 0.35))
    L.gap(26)
    L.row(rng.choice(["JUSTIFICANTE DE TRANSFERENCIA",
                      "JUSTIFICANTE DE TRANSFERENCIA EMITIDA"]),
          font=st["bold"], size=15, lead=20)
    L.hr(1.2, st["accent"], pad=8)
    L.gap(6)
    dstyle = rng.choice(["num", "num", "dot"])

    def kv(k, v, bold=False):
        L.row(f"{k} {v}", lead=17, font=st["bold"] if bold else None)

    kv("Fecha de operación:", fmt_date(d, dstyle))
    kv("Fecha valor:", fmt_date(d, dstyle))
    kv("Nº de referencia:", ref)
    kv("Tipo de transferencia:", tipo)
    L.gap(12)
    L.row("DATOS DEL ORDENANTE", font=st["bold"], size=10, lead=16, color=st["accent"])
    kv("Titular:", full_name(orden))
    kv("NIF:", orden["nif"])
    kv("Cuenta de cargo (IBAN):", fmt_iban(iban_o))
    L.gap(12)
    L.row("DATOS DEL BENEFICIARIO", font=st["bold"], size=10, lead=16,
          color=st["accent"])
    kv("Beneficiario:", ben_name)
    kv("Cuenta de abono (IBAN):", fmt_iban(ben_iban))
    kv("BIC:", rng.choice(BANKS)[1] + "XXX")
    L.gap(12)
    L.row("DETALLE DE LA OPERACIÓN", font=st["bold"], size=10, lead=16,
          color=st["accent"])
    cur = rng.choice(["sym", "EUR"])
    kv("Importe:", fmt_eur(importe, cur), bold=True)
    kv("Comisiones:", fmt_eur(comision, cur))
    kv("Importe total cargado:", fmt_eur(importe + comision, cur))
    kv("Concepto:", concepto)
    kv("Gastos:", "compartidos (SHA)")
    L.gap(30)
    L.para("Este documento acredita que la orden de transferencia ha sido "
           "aceptada y cargada en la cuenta indicada. La fecha de abono al "
           "beneficiario depende de la entidad receptora.", size=8.5, lead=12)
    L.y = max(L.y, A4H - 122)
    L.hr(0.4, (0.5, 0.5, 0.5))
    L.para(f"{bank_name} CIF {make_cif(rng, 'A')}. Entidad inscrita en el "
           f"Registro de Entidades del Banco de España con el código {bank_code}.",
           size=7.5, lead=10, space_before=5)
    fields = {"fecha": d.isoformat(), "importe": canon_amount(importe),
              "iban_ordenante": iban_o, "iban_beneficiario": ben_iban,
              "referencia": ref}
    return L.pages, fields, ["JUSTIFICANTE", "TRANSFERENCIA"]


CATEGORIES = [("Oficial administrativo de 1ª", 5), ("Auxiliar administrativo", 7),
              ("Técnico de sistemas", 2), ("Jefe de almacén", 3),
              ("Peón especialista", 9), ("Comercial", 5),
              ("Ingeniera técnica", 2), ("Conductor-repartidor", 8),
              ("Oficial de 2ª electricista", 8), ("Recepcionista", 7)]


def build_nomina(rng):
    st = pick_style(rng, ["sans", "cond", "serif"])
    L = Layout(st, top=50, bottom=50)
    emp = make_company(rng)
    w = make_person(rng)
    d = rand_date(rng, date(2023, 1, 2), date(2025, 6, 27))
    last = (date(d.year + (d.month == 12), d.month % 12 + 1, 1) - timedelta(days=1))
    first = last.replace(day=1)
    cat, grupo = rng.choice(CATEGORIES)
    prov = emp["address"]["cp"][:2]
    mei = {2023: Decimal("0.10"), 2024: Decimal("0.12"), 2025: Decimal("0.13")}[d.year]
    base_sal = price(rng, 1150, 2900)
    dev = [("Salario base", base_sal)]
    if rng.random() < 0.7:
        dev.append(("Plus convenio", price(rng, 40, 260)))
    if rng.random() < 0.5:
        dev.append(("Complemento de antigüedad", price(rng, 20, 180)))
    dev.append(("Plus de transporte", price(rng, 40, 120)))
    if rng.random() < 0.3:
        dev.append(("Horas extraordinarias", price(rng, 40, 220)))
    dev.append(("Prorrata pagas extraordinarias", money(base_sal * 2 / 12)))
    bruto = money(sum(v for _, v in dev))
    irpf = Decimal(rng.choice([2, 6, 8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 21]))
    ded = [("Contingencias comunes", Decimal("4.70")), ("Desempleo", Decimal("1.55")),
           ("Formación profesional", Decimal("0.10")),
           ("Mecanismo de Equidad Intergeneracional", mei),
           ("Retención IRPF", irpf)]
    ded_amounts = [(k, r, money(bruto * r / 100)) for k, r in ded]
    total_ded = money(sum(a for _, _, a in ded_amounts))
    neto = bruto - total_ded
    L.y += 14
    L.text(A4W / 2, L.y, "RECIBO INDIVIDUAL JUSTIFICATIVO DEL PAGO DE SALARIOS",
           font=st["bold"], size=12.5, align="c")
    L.gap(8)
    y0 = L.y
    L.row(f"Empresa: {emp['name']}", x=L.left + 6, lead=14, font=st["bold"])
    L.row(f"Domicilio: {emp['address']['street']}, {addr_line2(emp['address'])}",
          x=L.left + 6, lead=14)
    L.row(f"CIF: {emp['cif']} · C.C.C.: {ccc_empresa(rng, prov)}", x=L.left + 6,
          lead=14)
    L.items.insert(0, {"k": "rect", "p": (L.left, y0 + 2, L.width, L.y - y0 + 6),
                       "stroke": (0.3, 0.3, 0.3), "fill": st["tint"], "w": 0.8,
                       "r": 0})
    L.gap(16)
    y0 = L.y
    L.row(f"Trabajador/a: {w['ap1']} {w['ap2']}, {w['nombre']}", x=L.left + 6,
          lead=14, font=st["bold"])
    L.row(f"NIF: {w['nif']} · Nº afiliación S.S.: {ss_number(rng, prov)}",
          x=L.left + 6, lead=14)
    L.row(f"Categoría: {cat} · Grupo de cotización: {grupo}", x=L.left + 6, lead=14)
    L.row(f"Antigüedad: {fmt_date(rand_date(rng, date(2008, 1, 1), date(2022, 12, 1)))}"
          f" · Contrato: indefinido a tiempo completo", x=L.left + 6, lead=14)
    L.rect(L.left, y0 + 2, L.width, L.y - y0 + 6, stroke=(0.3, 0.3, 0.3), fill=None)
    L.gap(16)
    L.row(f"Periodo de liquidación: del {fmt_date(first)} al {fmt_date(last)} "
          f"({MONTHS[d.month - 1]} de {d.year}) · Total días: {last.day}", lead=14)
    L.gap(10)
    xr, xa = L.left + 300, A4W - L.right
    L.hr(0.8)
    L.cells([(L.left, "I. DEVENGOS", "l"), (xa, "Importe", "r")], font=st["bold"],
            lead=16)
    for k, v in dev:
        L.cells([(L.left + 10, k, "l"), (xa, fmt_num(v), "r")], lead=15)
    L.cells([(L.left, "A. TOTAL DEVENGADO", "l"), (xa, fmt_num(bruto), "r")],
            font=st["bold"], lead=18)
    L.hr(0.5)
    L.cells([(L.left, "II. DEDUCCIONES", "l"), (xr, "Tipo", "r"), (xa, "Importe", "r")],
            font=st["bold"], lead=16)
    L.cells([(L.left + 10, "Aportación del trabajador a la Seguridad Social:", "l")],
            lead=15)
    for k, r, a in ded_amounts:
        indent = 20 if k != "Retención IRPF" else 10
        L.cells([(L.left + indent, k, "l"), (xr, fmt_pct(r), "r"),
                 (xa, fmt_num(a), "r")], lead=15)
    L.cells([(L.left, "B. TOTAL A DEDUCIR", "l"), (xa, fmt_num(total_ded), "r")],
            font=st["bold"], lead=18)
    L.hr(0.8)
    L.cells([(L.left, "LÍQUIDO TOTAL A PERCIBIR (A - B)", "l"),
             (xa, fmt_eur(neto), "r")], font=st["bold"], size=11.5, lead=20)
    L.gap(12)
    L.row("Forma de pago: transferencia bancaria", lead=14)
    iban = make_iban_es(rng)
    L.row(f"IBAN: {fmt_iban(iban)}", lead=14)
    L.gap(12)
    L.row("Bases de cotización", font=st["bold"], lead=15)
    L.cells([(L.left + 10, "Contingencias comunes", "l"), (xa, fmt_num(bruto), "r")],
            lead=14)
    L.cells([(L.left + 10, "Contingencias profesionales, desempleo y FP", "l"),
             (xa, fmt_num(bruto), "r")], lead=14)
    L.cells([(L.left + 10, "Base sujeta a retención del IRPF", "l"),
             (xa, fmt_num(bruto), "r")], lead=14)
    L.gap(24)
    L.cells([(L.left, f"{emp['address']['city']}, a {fmt_date(last, 'long')}", "l")],
            lead=14)
    L.gap(14)
    L.cells([(L.left, "Firma y sello de la empresa", "l"),
             (L.left + 300, "Recibí", "l")], lead=14)
    fields = {"empresa_cif": emp["cif"], "trabajador_nif": w["nif"],
              "periodo": f"{d.year}-{d.month:02d}", "bruto": canon_amount(bruto),
              "neto": canon_amount(neto), "iban": iban}
    return L.pages, fields, ["RECIBO", "SALARIOS"]


SERVICES = [
    ("el mantenimiento preventivo y correctivo de los equipos informáticos y "
     "de la red local del CLIENTE", "mantenimiento informático"),
    ("la limpieza integral de las oficinas y zonas comunes del CLIENTE, con "
     "una frecuencia de tres días por semana", "limpieza"),
    ("el asesoramiento contable, fiscal y laboral del CLIENTE, incluida la "
     "presentación de las declaraciones trimestrales", "asesoría"),
    ("el diseño, desarrollo y puesta en marcha de una aplicación web de "
     "reservas para el CLIENTE", "desarrollo de software"),
    ("la revisión periódica y el mantenimiento de las instalaciones de "
     "climatización del inmueble del CLIENTE", "mantenimiento de climatización"),
]


def build_contrato(rng):
    st = pick_style(rng, ["serif", "serif", "sans"])
    st["size"] = 10.5
    L = Layout(st, top=64, bottom=78, left=64, right=64)
    prest = make_company(rng)
    rep = make_person(rng, allow_nie=False)
    client_is_company = rng.random() < 0.3
    if client_is_company:
        cc = make_company(rng)
        crep = make_person(rng)
        cli_id = cc["cif"]
        cli_desc = (f"De otra parte, {'Dña.' if crep['sex'] == 'F' else 'D.'} "
                    f"{full_name(crep)}, mayor de edad, con NIF {crep['nif']}, en "
                    f"nombre y representación de {cc['name']}, con CIF {cc['cif']} "
                    f"y domicilio social en {cc['address']['street']}, "
                    f"{addr_line2(cc['address'])} (en adelante, el CLIENTE).")
    else:
        cp = make_person(rng)
        cli_id = cp["nif"]
        cli_desc = (f"De otra parte, {'Dña.' if cp['sex'] == 'F' else 'D.'} "
                    f"{full_name(cp)}, mayor de edad, con NIF {cp['nif']} y "
                    f"domicilio en {cp['address']['street']}, "
                    f"{addr_line2(cp['address'])} (en adelante, el CLIENTE).")
    d = rand_date(rng)
    service, short = rng.choice(SERVICES)
    importe = money(Decimal(rng.randrange(12, 900)) * 50)
    months = rng.choice([6, 12, 12, 24])
    city = prest["address"]["city"]
    L.y += 6
    L.text(A4W / 2, L.y, "CONTRATO DE PRESTACIÓN DE SERVICIOS", font=st["bold"],
           size=14, align="c")
    L.row(f"({short})", align="c", size=10, lead=16)
    L.gap(14)
    L.para(f"En {city}, a {fmt_date(d, 'long')}.")
    L.gap(8)
    L.row("REUNIDOS", font=st["bold"], align="c", lead=20)
    L.gap(4)
    L.para(f"De una parte, {'Dña.' if rep['sex'] == 'F' else 'D.'} {full_name(rep)}, "
           f"mayor de edad, con NIF {rep['nif']}, en nombre y representación de "
           f"{prest['name']}, con CIF {prest['cif']} y domicilio social en "
           f"{prest['address']['street']}, {addr_line2(prest['address'])} "
           f"(en adelante, el PRESTADOR).")
    L.para(cli_desc, space_before=6)
    L.para("Ambas partes se reconocen capacidad legal suficiente para suscribir "
           "el presente contrato y, a tal efecto,", space_before=6)
    L.gap(8)
    L.row("EXPONEN", font=st["bold"], align="c", lead=20)
    L.gap(4)
    L.para(f"I. Que el PRESTADOR es una empresa dedicada a la actividad de "
           f"{short} y dispone de los medios técnicos y humanos necesarios para "
           f"prestar los servicios objeto de este contrato.")
    L.para("II. Que el CLIENTE está interesado en contratar dichos servicios, por "
           "lo que ambas partes acuerdan las siguientes", space_before=4)
    L.gap(8)
    L.row("CLÁUSULAS", font=st["bold"], align="c", lead=20)
    clauses = [
        ("PRIMERA. Objeto.", f"El PRESTADOR se obliga a realizar {service}, en "
         f"los términos descritos en el anexo técnico, que forma parte "
         f"inseparable de este contrato."),
        ("SEGUNDA. Precio.", f"El precio total de los servicios asciende a "
         f"{fmt_eur(importe).replace(' ', NBSP)} ({amount_in_words(importe)}), IVA no incluido, "
         f"que se facturará en {months} mensualidades iguales."),
        ("TERCERA. Forma de pago.", f"El CLIENTE abonará cada factura en el plazo "
         f"de treinta días desde su recepción mediante transferencia a la cuenta "
         f"del PRESTADOR con IBAN {fmt_iban(prest['iban']).replace(' ', NBSP)}."),
        ("CUARTA. Duración.", f"El contrato entrará en vigor el "
         f"{fmt_date(d + timedelta(days=rng.randrange(1, 20)), 'long')} y tendrá "
         f"una duración de {months} meses, prorrogable por periodos anuales "
         f"salvo denuncia expresa de cualquiera de las partes con un mes de "
         f"antelación."),
        ("QUINTA. Obligaciones del prestador.", "El PRESTADOR ejecutará los "
         "trabajos con la diligencia debida, con personal cualificado y "
         "cumpliendo la normativa de prevención de riesgos laborales."),
        ("SEXTA. Confidencialidad.", "Las partes se comprometen a no divulgar la "
         "información a la que tengan acceso con motivo de este contrato, "
         "obligación que subsistirá tras su extinción."),
        ("SÉPTIMA. Protección de datos.", "El tratamiento de datos personales se "
         "ajustará al Reglamento (UE) 2016/679 y a la Ley Orgánica 3/2018, de "
         "Protección de Datos Personales y garantía de los derechos digitales."),
        ("OCTAVA. Resolución.", "Será causa de resolución el incumplimiento grave "
         "de cualquiera de las obligaciones, previa comunicación fehaciente con "
         "quince días de antelación."),
        ("NOVENA. Jurisdicción.", f"Para cualquier controversia las partes se "
         f"someten a los Juzgados y Tribunales de {city}, con renuncia a "
         f"cualquier otro fuero."),
    ]
    for head, body in clauses:
        L.ensure(40)
        L.row(head, font=st["bold"], lead=20)
        L.para(body)
    L.gap(10)
    L.para("Y en prueba de conformidad, firman el presente contrato por "
           "duplicado y a un solo efecto en el lugar y fecha indicados.")
    L.ensure(80)
    L.gap(40)
    L.cells([(L.left, "EL PRESTADOR", "l"), (L.left + 270, "EL CLIENTE", "l")],
            font=st["bold"], lead=14)
    L.gap(40)
    L.line(L.left, L.y, L.left + 180, L.y, 0.5)
    L.line(L.left + 270, L.y, L.left + 450, L.y, 0.5)
    n = len(L.pages)
    for i, page in enumerate(L.pages):
        page.append({"k": "text", "x": A4W / 2, "y": A4H - 40,
                     "s": f"Página {i + 1} de {n}", "font": st["body"], "size": 8.5,
                     "align": "c", "color": (0.3, 0.3, 0.3)})
    fields = {"fecha": d.isoformat(), "prestador_cif": prest["cif"],
              "cliente_nif": cli_id, "importe": canon_amount(importe)}
    return L.pages, fields, ["CONTRATO", "CLÁUSULAS"]


MOTIVOS = [
    ("Facturación incorrecta",
     "En la factura nº {fac}, de {imp}, se han facturado consumos muy superiores "
     "a los habituales en mi vivienda. La lectura del contador que figura en la "
     "factura no coincide con la lectura real, que he comprobado personalmente "
     "y cuya fotografía adjunto."),
    ("Corte de suministro sin previo aviso",
     "El día {dia} se interrumpió el suministro en mi domicilio durante más de "
     "doce horas sin que se me comunicara previamente. Estoy al corriente de "
     "pago, como acredita la factura nº {fac}, de {imp}."),
    ("Cambio de comercializadora no solicitado",
     "He recibido la factura nº {fac}, por importe de {imp}, de una empresa con "
     "la que nunca he firmado contrato. No he autorizado ningún cambio de "
     "comercializadora y solicito que se anule y se restituya mi contrato."),
    ("Daños por sobretensión",
     "El día {dia} una subida de tensión en la red averió el frigorífico y la "
     "caldera de mi vivienda. Adjunto el presupuesto de reparación y la factura "
     "nº {fac}, de {imp}, del periodo en que ocurrieron los hechos."),
    ("Retraso en el alta del suministro",
     "Solicité el alta del suministro hace más de dos meses y todavía no se ha "
     "realizado. Mientras tanto se me ha emitido la factura nº {fac}, de {imp}, "
     "por un servicio que no he recibido."),
]


def build_reclamacion(rng):
    st = pick_style(rng, ["sans", "serif", "cond"])
    L = Layout(st)
    rec = make_person(rng)
    comer = rng.choice(ENERGY)
    gas = rng.random() < 0.25
    cups = make_cups(rng)
    d = rand_date(rng)
    numero = rng.choice([f"REC-{d.year}-{rng.randrange(1, 999999):06d}",
                         f"R{d.year % 100}/{rng.randrange(1, 99999):05d}"])
    motivo, hechos = rng.choice(MOTIVOS)
    fac = f"{rng.choice(['FE', 'EL', 'GN'])}{d.year % 100}{rng.randrange(10**7, 10**8)}"
    imp = fmt_eur(price(rng, 35, 480))
    dia = fmt_date(d - timedelta(days=rng.randrange(5, 40)), "long")
    L.y += 16
    L.text(L.left, L.y, "RECLAMACIÓN", font=st["bold"], size=18, color=st["accent"])
    L.row("Suministro de gas natural" if gas else "Suministro de energía eléctrica",
          size=11, lead=16)
    L.gap(14)
    L.row(f"Nº de reclamación: {numero}", lead=15, font=st["bold"])
    L.row(f"Fecha: {fmt_date(d, rng.choice(['num', 'long']))}", lead=15)
    L.row(f"Dirigida a: Servicio de Atención al Cliente de {comer.split(',')[0]}",
          lead=15)
    L.gap(12)
    L.rect(L.left, L.y + 4, L.width, 92, stroke=None, fill=st["tint"])
    L.row("DATOS DEL RECLAMANTE", font=st["bold"], x=L.left + 8, lead=16)
    L.row(f"Nombre y apellidos: {full_name(rec)}", x=L.left + 8, lead=14)
    L.row(f"NIF/NIE: {rec['nif']}", x=L.left + 8, lead=14)
    L.row(f"Domicilio: {rec['address']['street']}, {addr_line2(rec['address'])}",
          x=L.left + 8, lead=14)
    email = ascii_fold(f"{rec['nombre'].split()[0]}.{rec['ap1']}").lower()
    L.row(f"Teléfono: {mobile(rng)} · Correo electrónico: {email}@correo.example",
          x=L.left + 8, lead=14)
    L.gap(16)
    L.row("DATOS DEL SUMINISTRO", font=st["bold"], lead=16)
    spaced = rng.random() < 0.5
    cups_txt = (f"{cups[:2]} {cups[2:6]} {cups[6:10]} {cups[10:14]} {cups[14:18]} "
                f"{cups[18:]}") if spaced else cups
    L.row(f"CUPS: {cups_txt}", lead=14)
    L.row(f"Dirección del suministro: {rec['address']['street']}, "
          f"{addr_line2(rec['address'])}", lead=14)
    if gas:
        L.row(f"Tarifa: RL.{rng.randrange(1, 4)} · Consumo anual estimado: "
              f"{rng.randrange(2000, 15000)} kWh", lead=14)
    else:
        L.row(f"Tarifa de acceso: 2.0TD · Potencia contratada: "
              f"{fmt_num(Decimal(rng.choice([33, 46, 575, 69])) / 10).rstrip('0').rstrip(',')} kW",
              lead=14)
    L.row(f"Nº de contrato: {rng.randrange(10**9, 10**10)}", lead=14)
    L.gap(16)
    L.row(f"MOTIVO DE LA RECLAMACIÓN: {motivo}", font=st["bold"], lead=16)
    L.gap(6)
    L.row("Exposición de los hechos", font=st["bold"], lead=16)
    L.para(hechos.format(fac=fac, imp=imp, dia=dia))
    L.gap(8)
    L.row("Solicitud", font=st["bold"], lead=16)
    L.para("Solicito que se revise la situación descrita, se rectifique la "
           "facturación si procede y se me responda por escrito en el plazo "
           "máximo de un mes. En caso contrario, acudiré a la Junta Arbitral de "
           "Consumo o al organismo competente de mi comunidad autónoma.")
    L.gap(8)
    L.para("Documentación adjunta: copia de la factura reclamada y copia del "
           "documento de identidad.", size=9)
    L.gap(18)
    L.row(f"En {rec['address']['city']}, a {fmt_date(d, 'long')}.", lead=15)
    L.gap(10)
    L.row("Firma del reclamante:", lead=15)
    L.gap(36)
    L.line(L.left, L.y, L.left + 180, L.y, 0.5)
    fields = {"numero": numero, "fecha": d.isoformat(), "reclamante_nif": rec["nif"],
              "cups": cups}
    return L.pages, fields, ["RECLAMACIÓN", "CUPS"]


ALB_ITEMS = [("Tornillo hexagonal M8 x 40 (caja 100 uds.)", "caja"),
             ("Tubo de cobre 15 mm", "m"), ("Cable unipolar 2,5 mm² rojo", "m"),
             ("Saco de cemento gris 25 kg", "saco"),
             ("Palé de ladrillo hueco doble", "palé"),
             ("Guantes de nitrilo talla L", "caja"),
             ("Pintura plástica blanca mate 15 l", "ud."),
             ("Bisagra de acero inoxidable", "ud."), ("Tablero aglomerado 19 mm", "ud."),
             ("Resma de papel A4", "ud."), ("Cartucho de tinta negra", "ud."),
             ("Silicona neutra transparente", "ud."),
             ("Llave de paso de ½ pulgada", "ud."),
             ("Aceite hidráulico ISO 46 (20 l)", "bidón"),
             ("Lámpara LED E27 9 W", "ud."), ("Detergente industrial 5 l", "garrafa")]


def build_albaran(rng):
    st = pick_style(rng, ["sans", "cond", "mono"])
    mono = st["body"] == "mono"
    L = Layout(st)
    emisor = make_company(rng, sector=rng.choice(["Distribuciones", "Suministros Técnicos",
                                                   "Ferretería Industrial", "Logística",
                                                   "Papelería"]))
    cli = make_company(rng)
    d = rand_date(rng)
    numero = rng.choice([f"ALB-{d.year}-{rng.randrange(1, 99999):05d}",
                         f"AE{d.year % 100}/{rng.randrange(1, 9999):04d}",
                         f"{rng.randrange(100000, 999999)}"])
    pedido = rng.choice([f"PED-{rng.randrange(10000, 99999)}",
                         f"P{d.year}{rng.randrange(1000, 9999)}",
                         f"OC-{d.year % 100}-{rng.randrange(100, 9999)}"])
    company_header(L, rng, emisor)
    L.gap(18)
    L.row("ALBARÁN DE ENTREGA", font=st["bold"], size=17 if not mono else 15,
          color=st["accent"], lead=22)
    L.gap(4)
    dstyle = rng.choice(["num", "dash", "dot"])
    for k, v in (("Nº de albarán:", numero), ("Fecha:", fmt_date(d, dstyle)),
                 ("Su pedido nº:", pedido)):
        L.row(f"{k} {v}", lead=15)
    L.gap(10)
    L.row("Cliente / Dirección de entrega", font=st["bold"], lead=15)
    L.row(cli["name"], lead=14)
    L.row(f"CIF: {cli['cif']}", lead=14)
    L.row(f"{cli['address']['street']}, {addr_line2(cli['address'])}", lead=14)
    L.gap(18)
    xd, xc, xu = L.left + 80, A4W - L.right - 60, A4W - L.right
    L.line(L.left, L.y + 4, A4W - L.right, L.y + 4, 0.6)
    L.cells([(L.left, "Código", "l"), (xd, "Descripción", "l"), (xc, "Cantidad", "r"),
             (xu, "Unidad", "r")], font=st["bold"], lead=16)
    L.line(L.left, L.y + 5, A4W - L.right, L.y + 5, 0.6)
    L.gap(4)
    items = rng.sample(ALB_ITEMS, rng.randrange(3, 8))
    for desc, unit in items:
        code = f"{rng.choice('ABCDEFGHKMPRST')}{rng.randrange(1000, 99999)}"
        q = rng.choice([1, 2, 3, 4, 5, 6, 10, 12, 20, 25, 50, 100])
        L.cells([(L.left, code, "l"), (xd, desc, "l"), (xc, str(q), "r"),
                 (xu, unit, "r")], lead=16)
    L.line(L.left, L.y + 6, A4W - L.right, L.y + 6, 0.6)
    L.gap(10)
    bultos = rng.randrange(1, 12)
    peso = Decimal(rng.randrange(20, 4000)) / 10
    L.row(f"Total bultos: {bultos} · Peso total: {fmt_num(peso)[:-1]} kg", lead=15)
    L.row(f"Transportista: {rng.choice(['Transportes', 'Logística'])} "
          f"{rng.choice(COMPANY_PLACES)} S.L.", lead=15)
    L.row("Observaciones: " + rng.choice([
        "entregar en horario de mañana.", "mercancía frágil, no apilar.",
        "descarga en muelle 3.", "llamar al cliente antes de la entrega."]), lead=15)
    L.gap(30)
    L.row("Recibí conforme (firma, nombre y DNI del receptor):", lead=15)
    L.gap(40)
    L.line(L.left, L.y, L.left + 220, L.y, 0.5)
    L.y = max(L.y, A4H - 122)
    L.hr(0.4, (0.5, 0.5, 0.5))
    L.para("La mercancía viaja por cuenta y riesgo del destinatario. Cualquier "
           "incidencia debe indicarse en este albarán en el momento de la entrega.",
           size=7.5, lead=10, space_before=5)
    fields = {"numero": numero, "pedido": pedido, "fecha": d.isoformat(),
              "emisor_cif": emisor["cif"]}
    return L.pages, fields, ["ALBARÁN", "ENTREGA"]


BUILDERS = {"factura": build_factura, "dni": build_dni,
            "justificante_bancario": build_justificante, "nomina": build_nomina,
            "contrato": build_contrato, "reclamacion": build_reclamacion,
            "albaran": build_albaran}


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def render_pdf(pages, path, title):
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(path, pagesize=(A4W, A4H), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("custodia samples/generate.py (synthetic, fictitious data)")
    c.setCreator("custodia samples/generate.py")
    for items in pages:
        for it in items:
            k = it["k"]
            if k == "text":
                c.setFillColorRGB(*it["color"])
                c.setFont("DV-" + it["font"], it["size"])
                y = A4H - it["y"]
                if it["align"] == "r":
                    c.drawRightString(it["x"], y, it["s"])
                elif it["align"] == "c":
                    c.drawCentredString(it["x"], y, it["s"])
                else:
                    c.drawString(it["x"], y, it["s"])
            elif k == "line":
                x1, y1, x2, y2 = it["p"]
                c.setStrokeColorRGB(*it["color"])
                c.setLineWidth(it["w"])
                c.line(x1, A4H - y1, x2, A4H - y2)
            elif k == "rect":
                x, y, w, h = it["p"]
                if it["fill"]:
                    c.setFillColorRGB(*it["fill"])
                if it["stroke"]:
                    c.setStrokeColorRGB(*it["stroke"])
                    c.setLineWidth(it["w"])
                if it["r"]:
                    c.roundRect(x, A4H - y - h, w, h, it["r"],
                                stroke=1 if it["stroke"] else 0,
                                fill=1 if it["fill"] else 0)
                else:
                    c.rect(x, A4H - y - h, w, h, stroke=1 if it["stroke"] else 0,
                           fill=1 if it["fill"] else 0)
            elif k == "ellipse":
                x, y, w, h = it["p"]
                c.setFillColorRGB(*it["fill"])
                c.ellipse(x, A4H - y - h, x + w, A4H - y, stroke=0, fill=1)
            elif k == "poly":
                c.setStrokeColorRGB(*it["color"])
                c.setLineWidth(it["w"])
                p = c.beginPath()
                pts = it["pts"]
                p.moveTo(pts[0][0], A4H - pts[0][1])
                for x, y in pts[1:]:
                    p.lineTo(x, A4H - y)
                c.drawPath(p, stroke=1, fill=0)
        c.showPage()
    c.save()


_pil_fonts = {}


def pil_font(name, px):
    from PIL import ImageFont
    key = (name, px)
    if key not in _pil_fonts:
        _pil_fonts[key] = ImageFont.truetype(font_path(name), px)
    return _pil_fonts[key]


def render_image(items, dpi=DPI):
    """Render one page to an 8-bit RGB PIL image at dpi."""
    from PIL import Image, ImageDraw
    s = dpi / 72.0
    W, H = round(A4W * s), round(A4H * s)
    img = Image.new("RGB", (W, H), (255, 255, 255))
    dr = ImageDraw.Draw(img)
    col = lambda c: tuple(int(round(v * 255)) for v in c)
    for it in items:
        k = it["k"]
        if k == "text":
            f = pil_font(it["font"], max(1, round(it["size"] * s)))
            anchor = {"l": "ls", "r": "rs", "c": "ms"}[it["align"]]
            dr.text((it["x"] * s, it["y"] * s), it["s"], font=f, fill=col(it["color"]),
                    anchor=anchor)
        elif k == "line":
            x1, y1, x2, y2 = it["p"]
            dr.line([(x1 * s, y1 * s), (x2 * s, y2 * s)], fill=col(it["color"]),
                    width=max(1, round(it["w"] * s)))
        elif k == "rect":
            x, y, w, h = it["p"]
            box = [x * s, y * s, (x + w) * s, (y + h) * s]
            kw = dict(fill=col(it["fill"]) if it["fill"] else None,
                      outline=col(it["stroke"]) if it["stroke"] else None,
                      width=max(1, round(it["w"] * s)) if it["stroke"] else 0)
            if it["r"]:
                dr.rounded_rectangle(box, radius=it["r"] * s, **kw)
            else:
                dr.rectangle(box, **kw)
        elif k == "ellipse":
            x, y, w, h = it["p"]
            dr.ellipse([x * s, y * s, (x + w) * s, (y + h) * s], fill=col(it["fill"]))
        elif k == "poly":
            dr.line([(x * s, y * s) for x, y in it["pts"]], fill=col(it["color"]),
                    width=max(1, round(it["w"] * s)), joint="curve")
    return img


# ---------------------------------------------------------------------------
# Degradation
# ---------------------------------------------------------------------------

PROFILES = {
    # the committed set: readable by plain Tesseract when upright
    "moderate": dict(skew=(0.3, 2.0), rotations=((0, 1.0),), blur=(0.0, 1.0),
                     noise=(1.5, 3.5), speckles=(0, 400), jpeg=(50, 75),
                     light=(0.05, 0.25), border=0.8),
    # issue-4 style evaluation: skew up to 5 degrees, some pages 90/180/270
    "hard": dict(skew=(0.5, 5.0), rotations=((0, 0.7), (90, 0.1), (180, 0.1),
                                               (270, 0.1)),
                 blur=(0.3, 1.8), noise=(4.0, 14.0), speckles=(200, 2500),
                 jpeg=(35, 90), light=(0.1, 0.4), border=0.9),
    # almost clean pages, e.g. for training a classifier on OCR text
    "light": dict(skew=(0.0, 1.0), rotations=((0, 1.0),), blur=(0.0, 0.5),
                  noise=(0.0, 3.0), speckles=(0, 50), jpeg=(80, 95),
                  light=(0.0, 0.1), border=0.2),
    # the issue-4 evaluation set (--profile eval, see make_eval_set): the
    # ranges of 'hard'; rotations are set per page by EVAL_ROTATIONS
    "eval": dict(skew=(0.2, 5.0), rotations=((0, 1.0),), blur=(0.3, 1.8),
                 noise=(4.0, 14.0), speckles=(200, 2500), jpeg=(35, 90),
                 light=(0.1, 0.4), border=0.9),
}


def sample_degradation(rng, profile, fmt, rotation=None, skew=None):
    P = PROFILES[profile]
    if rotation is None:
        r, acc = rng.random(), 0.0
        rotation = 0
        for rot, p in P["rotations"]:
            acc += p
            if r < acc:
                rotation = rot
                break
    if skew is None:
        skew = round(rng.uniform(*P["skew"]) * rng.choice([-1, 1]), 2)
    d = {"skew_deg": skew, "rotation": rotation,
         "blur": round(rng.uniform(*P["blur"]), 2),
         "noise": round(rng.uniform(*P["noise"]), 2),
         "speckles": rng.randrange(P["speckles"][0], P["speckles"][1] + 1),
         "jpeg_quality": rng.randrange(P["jpeg"][0], P["jpeg"][1] + 1)
         if fmt in ("jpeg", "pdf-jpeg") else None,
         "light": round(rng.uniform(*P["light"]), 3),
         "border": rng.random() < P["border"],
         "binarized": fmt in ("png-1bit", "tiff-g4"),
         "offset_px": [rng.randrange(-40, 41), rng.randrange(-40, 41)],
         "seed": rng.randrange(0, 2**31)}
    return d


def degrade(img, d, fast=False):
    """img: RGB page at DPI. Returns an 'L' or '1' PIL image. fast (the eval
    set only): bilinear skew and a tiled float32 noise field, about a third
    quicker; other pixels than without it, so the committed samples never use
    it."""
    import numpy as np
    from PIL import Image, ImageFilter
    nrng = np.random.default_rng(d["seed"])
    g = img.convert("L")
    W, H = g.size
    # paper tone and uneven light (multiplicative, low frequency)
    a = np.asarray(g, dtype=np.float32)
    grid = nrng.uniform(1.0 - d["light"], 1.0, size=(3, 4)).astype(np.float32)
    field = Image.fromarray(grid, mode="F").resize((W, H), Image.BICUBIC)
    ramp = np.linspace(1.0, 1.0 - d["light"] * nrng.uniform(0, 0.6), W,
                       dtype=np.float32)[None, :]
    paper = nrng.uniform(238, 252)
    a = a * (paper / 255.0) * np.asarray(field, dtype=np.float32) * ramp
    page = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), mode="L")
    # skew on a dark scanner bed, shifted a little
    bed = int(nrng.uniform(25, 70)) if d["border"] else int(paper)
    rot = page.rotate(d["skew_deg"], resample=Image.BILINEAR if fast else Image.BICUBIC,
                      expand=True, fillcolor=bed)
    canvas = Image.new("L", (W, H), bed)
    ox = (W - rot.size[0]) // 2 + d["offset_px"][0]
    oy = (H - rot.size[1]) // 2 + d["offset_px"][1]
    canvas.paste(rot, (ox, oy))
    a = np.asarray(canvas, dtype=np.float32)
    if d["border"]:
        # lid shadow: dark bands along one or two edges
        for edge in nrng.choice(4, size=nrng.integers(1, 3), replace=False):
            wpx = int(nrng.uniform(15, 70))
            if edge == 0:
                a[:, :wpx] = np.minimum(a[:, :wpx], bed)
            elif edge == 1:
                a[:, -wpx:] = np.minimum(a[:, -wpx:], bed)
            elif edge == 2:
                a[:wpx, :] = np.minimum(a[:wpx, :], bed)
            else:
                a[-wpx:, :] = np.minimum(a[-wpx:, :], bed)
    g = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), mode="L")
    if d["blur"] > 0.05:
        g = g.filter(ImageFilter.GaussianBlur(d["blur"]))
    a = np.asarray(g, dtype=np.float32)
    if d["noise"] > 0 and fast:
        # a quarter-size tile of noise, repeated 2 x 2 (a period of half the page)
        th, tw = (H + 1) // 2, (W + 1) // 2
        tile = nrng.standard_normal(size=(th, tw), dtype=np.float32)
        tile *= np.float32(d["noise"])
        a += np.tile(tile, (2, 2))[:H, :W]
    elif d["noise"] > 0:
        a = a + nrng.normal(0, d["noise"], size=a.shape).astype(np.float32)
    n = d["speckles"]
    if n:
        ys = nrng.integers(0, H - 3, n)
        xs = nrng.integers(0, W - 3, n)
        dark = nrng.random(n) < 0.7
        for y, x, dk in zip(ys, xs, dark):
            sz = 1 + int(nrng.integers(0, 3))
            a[y:y + sz, x:x + sz] = 20 if dk else 255
    g = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), mode="L")
    if d["binarized"]:
        g = g.point(lambda v: 255 if v > 140 else 0).convert("1", dither=Image.NONE)
    # rotation: content turned clockwise by d["rotation"] degrees
    if d["rotation"] == 90:
        g = g.transpose(Image.ROTATE_270)
    elif d["rotation"] == 180:
        g = g.transpose(Image.ROTATE_180)
    elif d["rotation"] == 270:
        g = g.transpose(Image.ROTATE_90)
    return g


def save_scan(images, path, fmt, degs):
    from PIL import Image
    if fmt == "jpeg":
        assert len(images) == 1
        images[0].save(path, "JPEG", quality=degs[0]["jpeg_quality"], dpi=(DPI, DPI),
                       optimize=True)
    elif fmt == "png-1bit":
        assert len(images) == 1
        images[0].save(path, "PNG", dpi=(DPI, DPI), optimize=True)
    elif fmt == "png-gray":
        assert len(images) == 1
        images[0].save(path, "PNG", dpi=(DPI, DPI), optimize=True)
    elif fmt == "tiff-g4":
        images[0].save(path, "TIFF", compression="group4", dpi=(DPI, DPI),
                       save_all=True, append_images=images[1:])
    elif fmt == "pdf-jpeg":
        from reportlab.pdfgen import canvas
        from reportlab.lib.utils import ImageReader
        c = canvas.Canvas(path, pagesize=(A4W, A4H), invariant=1)
        c.setCreator("custodia samples/generate.py (scanned page images, no text layer)")
        for im, d in zip(images, degs):
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=d["jpeg_quality"], dpi=(DPI, DPI))
            buf.seek(0)
            w, h = im.size
            pw, ph = w * 72.0 / DPI, h * 72.0 / DPI
            c.setPageSize((pw, ph))
            c.drawImage(ImageReader(buf), 0, 0, pw, ph)
            c.showPage()
        c.save()
    else:
        raise ValueError(fmt)


EXT = {"jpeg": "jpg", "png-1bit": "png", "png-gray": "png", "tiff-g4": "tif",
       "pdf-jpeg": "pdf"}


# ---------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------

# The committed set: (index, type, outputs). An output is "pdf" or
# (format, rotation, name suffix).
COMMITTED = [
    (1, "factura", ["pdf", ("jpeg", 0, "scan")]),
    (2, "dni", ["pdf", ("jpeg", 0, "scan")], {"variant": "dni"}),
    (3, "justificante_bancario", ["pdf", ("png-1bit", 0, "scan")]),
    (4, "nomina", ["pdf", ("pdf-jpeg", 0, "scan")]),
    (5, "contrato", ["pdf", ("tiff-g4", 0, "scan")]),
    (6, "reclamacion", ["pdf", ("jpeg", 0, "scan")]),
    (7, "albaran", ["pdf", ("png-1bit", 0, "scan")]),
    (8, "factura", [("jpeg", 180, "scan_rot180")]),
    (9, "albaran", [("png-1bit", 90, "scan_rot90")]),
]


def doc_seed(seed, index, typ):
    h = hashlib.sha256(f"custodia-samples:{seed}:{index}:{typ}".encode()).digest()
    return int.from_bytes(h[:8], "big")


SHORT = {"justificante_bancario": "justificante"}


def make_document(seed, index, typ, outputs, out_dir, profile, stem_width=2,
                  max_skew=None, opts=None):
    rng = random.Random(doc_seed(seed, index, typ))
    pages, fields, keywords = BUILDERS[typ](rng, **(opts or {}))
    if typ != "contrato" and len(pages) != 1:
        raise RuntimeError(f"{typ} {index}: layout overflowed to {len(pages)} pages")
    text = doc_text(pages)
    stem = f"{index:0{stem_width}d}_{SHORT.get(typ, typ)}"
    written = []
    for out in outputs:
        if out == "pdf":
            name = f"{stem}.pdf"
            render_pdf(pages, os.path.join(out_dir, name),
                       f"{typ} {index} (synthetic sample)")
            deg = None
        else:
            fmt, rotation, suffix = out
            if len(pages) > 1 and fmt in ("jpeg", "png-1bit", "png-gray"):
                fmt = "tiff-g4" if fmt != "jpeg" else "pdf-jpeg"
            name = f"{stem}_{suffix}.{EXT[fmt]}"
            drng = random.Random(doc_seed(seed, index, typ + ":" + name))
            degs, images = [], []
            for pi, items in enumerate(pages):
                d = sample_degradation(drng, profile, fmt, rotation=rotation)
                if max_skew is not None and abs(d["skew_deg"]) > max_skew:
                    d["skew_deg"] = round(max_skew * (1 if d["skew_deg"] > 0 else -1), 2)
                degs.append(d)
                images.append(degrade(render_image(items), d))
            save_scan(images, os.path.join(out_dir, name), fmt, degs)
            deg = dict(degs[0])
            deg.pop("seed")
            deg.update({"profile": profile, "format": fmt, "dpi": DPI})
            if len(degs) > 1:
                deg["per_page"] = [{k: v for k, v in dd.items() if k != "seed"}
                                   for dd in degs]
        expected = {"file": name, "type": typ, "pages": len(pages), "text": text,
                    "fields": fields, "keywords": keywords, "degradation": deg,
                    "generator": {"version": GENERATOR_VERSION, "seed": seed,
                                  "index": index}}
        with open(os.path.join(out_dir, name.rsplit(".", 1)[0] + ".expected.json"),
                  "w", encoding="utf-8") as f:
            json.dump(expected, f, ensure_ascii=False, indent=2)
            f.write("\n")
        written.append(name)
    return written


# ---------------------------------------------------------------------------
# The evaluation set (issue 4): --profile eval
# ---------------------------------------------------------------------------
#
# One image file per page (gray JPEG or PNG, 300 dpi), a <name>.gt.txt beside
# each (the text drawn on that page: one line per drawn line, top to bottom,
# items on one baseline joined by a space, left to right) and manifest.json
# (every page: file, document, type, text, degradation). Kept apart from
# anything cleanup is tuned on: its own seed (EVAL_SEED), its own document
# seeds ("eval:" prefix, so --count with the same seed makes other
# documents), and its own people, streets and company places (EVAL_VOCAB,
# disjoint from the lists above), so no name drawn here appears in the
# committed samples or in --count sets. Amounts, numbers and dates are drawn
# from those seeds. Never committed: bench/ocr_eval.sh generates it at bench
# time.

EVAL_SEED = 60613
EVAL_DOCS = 56  # 8 of each type; the contratos have 2 pages: 64 pages
# rotation by page number (1-based, in document order), repeating: 5 upright,
# one each at 90, 180 and 270 in every 8 pages, whatever the document type
EVAL_ROTATIONS = (0, 0, 180, 0, 90, 0, 0, 270)
EVAL_FORMATS = ("jpeg", "jpeg", "jpeg", "jpeg", "png-gray")
EVAL_EXT = {"jpeg": "jpg", "png-gray": "png"}

EVAL_VOCAB = {
    "NAMES_F": ["Alicia", "Beatriz", "Candela", "Dolores", "Esperanza", "Fátima",
                "Gloria", "Leticia", "Macarena", "Míriam", "Olga", "Patricia",
                "Silvia", "Teresa", "Verónica", "Yolanda", "Ariadna",
                "Estíbaliz", "Maite", "Jimena", "Aránzazu", "Natividad",
                "Milagros", "Encarnación", "Lidia", "Sonia", "Inmaculada",
                "Asunción", "Noemí", "Úrsula"],
    "NAMES_M": ["Alberto", "Benjamín", "Cristóbal", "Damián", "Emilio", "Felipe",
                "Gonzalo", "Héctor", "Ignacio", "Jacinto", "Marcos", "Néstor",
                "Octavio", "Patricio", "Rafael", "Salvador", "Teodoro",
                "Valentín", "Jerónimo", "Bartolomé", "Eugenio", "Leandro",
                "Rodrigo", "Simón", "Gaspar", "Hugo", "Iván", "Efraín",
                "Matías", "Ceferino"],
    "COMPOUND_F": ["Mari Luz", "Gloria Estela", "Leticia Amparo", "Sara Noemí",
                   "Luz Divina", "Eva Consuelo"],
    "COMPOUND_M": ["Jorge Alfonso", "Pedro Ignacio", "Fidel Custodio",
                   "Eloy Gonzaga", "Jorge Hilario", "Diego Efrén"],
    "SURNAMES": ["Aguilar", "Arroyo", "Bravo", "Caballero", "Campos", "Carmona",
                 "Crespo", "Durán", "Espinosa", "Fuentes", "Gallardo",
                 "Guerrero", "Herrero", "Hidalgo", "Lorenzo", "Luque", "Mora",
                 "Montero", "Nieto", "Pastor", "Parra", "Rojas", "Santos",
                 "Soler", "Soto", "Vega", "Velasco", "Villar", "Zamora",
                 "Cuesta", "Báez", "Peñalver", "Ibarra", "Echániz", "Briceño",
                 "Ceballos", "Orozco", "Maldonado", "Acuña", "Mújica",
                 "Ortúzar", "Olmedo", "Cárdenas", "Sepúlveda", "Valcárcel",
                 "Zurbano", "Güemes", "Íñiguez", "Céspedes", "Jáuregui"],
    "STREETS": ["de Bailén", "del Marqués de Urquijo", "de Sorolla",
                "de la Alhambra", "de Zurbarán", "de Murillo", "del Río Júcar",
                "de las Huertas", "de Goya", "de Quevedo", "de Lope de Vega",
                "de la Estación", "del Cid Campeador", "de Velázquez",
                "de Bécquer", "de la Tejera", "de Tomás Bretón",
                "de las Cañadas", "de Unamuno", "de la Fuente Dorada",
                "de Echegaray", "del Azahar", "de la Señoría", "de Jovellanos"],
    "COMPANY_PLACES": ["Montsant", "Alpujarra", "Bierzo", "Cazorla", "Somontano",
                       "Tiétar", "Jarama", "Alcarria", "Maestrazgo", "Vinalopó",
                       "Guadiana", "Aneto", "Mulhacén", "Almadén", "Sanabria",
                       "Béjar", "Écija", "Peñíscola", "Ordesa", "Tabernas"],
}


def _vocab_words(lists):
    return {w for lst in lists for entry in lst for w in entry.split()}


def check_eval_vocab():
    """The eval people, streets and places share no entry with the default
    lists, and no first name or surname word with any default name."""
    g = globals()
    for k, lst in EVAL_VOCAB.items():
        shared = set(lst) & set(g[k])
        assert not shared, f"EVAL_VOCAB[{k}] shares {sorted(shared)}"
        assert len(set(lst)) == len(lst), f"EVAL_VOCAB[{k}] has duplicates"
    people = ("NAMES_F", "NAMES_M", "COMPOUND_F", "COMPOUND_M", "SURNAMES")
    shared = (_vocab_words(EVAL_VOCAB[k] for k in people)
              & _vocab_words(g[k] for k in people))
    assert not shared, f"eval names share words with the default names: {sorted(shared)}"


class eval_vocabulary:
    """Within the block, the builders draw people, streets and places from
    EVAL_VOCAB (they read the module-level lists when called)."""

    def __enter__(self):
        g = globals()
        self.saved = {k: g[k] for k in EVAL_VOCAB}
        g.update(EVAL_VOCAB)

    def __exit__(self, *exc):
        globals().update(self.saved)


def eval_plan(seed, count):
    """Lays out documents 1..count and decides each page's degradation.
    Document i depends only on (seed, i), page k's rotation on k: a smaller
    --count gives the first pages of a larger one."""
    plan, docs, k = [], [], 0
    with eval_vocabulary():
        for i in range(1, count + 1):
            typ = TYPES[(i - 1) % len(TYPES)]
            rng = random.Random(doc_seed(seed, i, "eval:" + typ))
            pages, fields, keywords = BUILDERS[typ](rng)
            if typ != "contrato" and len(pages) != 1:
                raise RuntimeError(f"{typ} {i}: layout overflowed to {len(pages)} pages")
            docs.append({"doc": i, "type": typ, "pages": len(pages), "fields": fields,
                         "keywords": keywords, "text": doc_text(pages)})
            for p, items in enumerate(pages, 1):
                rotation = EVAL_ROTATIONS[k % len(EVAL_ROTATIONS)]
                k += 1
                drng = random.Random(doc_seed(seed, i, f"eval:{typ}:page{p}"))
                fmt = drng.choice(EVAL_FORMATS)
                d = sample_degradation(drng, "eval", fmt, rotation=rotation)
                stem = f"e{i:04d}_{SHORT.get(typ, typ)}_p{p}"
                plan.append({"file": f"{stem}.{EVAL_EXT[fmt]}", "gt": f"{stem}.gt.txt",
                             "doc": i, "type": typ, "page": p, "doc_pages": len(pages),
                             "text": page_text(items), "format": fmt,
                             "degradation": d, "items": items})
    return plan, docs


def _eval_render(job_and_dir):
    job, out_dir = job_and_dir
    img = degrade(render_image(job["items"]), job["degradation"], fast=True)
    path = os.path.join(out_dir, job["file"])
    if job["format"] == "jpeg":
        img.save(path, "JPEG", quality=job["degradation"]["jpeg_quality"],
                 dpi=(DPI, DPI))
    else:
        img.save(path, "PNG", dpi=(DPI, DPI), compress_level=1)
    with open(os.path.join(out_dir, job["gt"]), "w", encoding="utf-8") as f:
        f.write(job["text"] + "\n")
    return job["file"], img.size


def eval_composition(pages):
    """Counts for people: pages per type, rotations, formats, degradations."""
    by_type, rot, fmt = {}, {}, {}
    for p in pages:
        by_type[p["type"]] = by_type.get(p["type"], 0) + 1
        d = p["degradation"]
        rot[d["rotation"]] = rot.get(d["rotation"], 0) + 1
        fmt[d["format"]] = fmt.get(d["format"], 0) + 1
    rng_of = lambda key: (min(p["degradation"][key] for p in pages
                              if p["degradation"][key] is not None),
                          max(p["degradation"][key] for p in pages
                              if p["degradation"][key] is not None))
    skews = [abs(p["degradation"]["skew_deg"]) for p in pages]
    lines = [f"{len(pages)} pages of {len({p['doc'] for p in pages})} documents",
             "pages per type: " + ", ".join(f"{t} {by_type[t]}" for t in TYPES
                                            if t in by_type),
             "rotation: " + ", ".join(f"{r}° {rot[r]}" for r in sorted(rot)),
             "format: " + ", ".join(f"{f} {fmt[f]}" for f in sorted(fmt)),
             "skew |deg|: %.2f-%.2f; blur sigma px: %.2f-%.2f; noise sd: %.1f-%.1f; "
             "speckles: %d-%d; JPEG quality: %d-%d; uneven light: %.2f-%.2f; "
             "dark borders: %d pages" % (
                 min(skews), max(skews), *rng_of("blur"), *rng_of("noise"),
                 *rng_of("speckles"), *rng_of("jpeg_quality"), *rng_of("light"),
                 sum(p["degradation"]["border"] for p in pages))]
    return lines


def make_eval_set(seed, count, out_dir, jobs):
    check_eval_vocab()
    plan, docs = eval_plan(seed, count)
    os.makedirs(out_dir, exist_ok=True)
    work = [(job, out_dir) for job in plan]
    if jobs > 1 and len(work) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            sizes = dict(pool.imap(_eval_render, work))
    else:
        sizes = dict(map(_eval_render, work))
    pages = []
    for job in plan:
        d = {k: v for k, v in job["degradation"].items() if k != "seed"}
        d.update({"format": job["format"], "dpi": DPI})
        pages.append({"file": job["file"], "gt": job["gt"], "doc": job["doc"],
                      "type": job["type"], "page": job["page"],
                      "doc_pages": job["doc_pages"],
                      "size_px": list(sizes[job["file"]]), "text": job["text"],
                      "degradation": d})
    manifest = {"generator": {"version": GENERATOR_VERSION, "profile": "eval",
                              "seed": seed, "count": count},
                "note": "synthetic, fictitious data; text = the lines drawn on "
                        "each page, top to bottom, one line per drawn line",
                "pages": pages, "documents": docs}
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for line in eval_composition(pages):
        print(f"generate: eval: {line}", file=sys.stderr)
    return [p["file"] for p in pages]


def run_check_eval(out_dir, manifest):
    """--check on an eval folder: files, dpi, ground truth, fields."""
    from PIL import Image
    self_test_validators()
    check_eval_vocab()
    errs = []
    pages = manifest["pages"]
    for p in pages:
        path = os.path.join(out_dir, p["file"])
        if not os.path.exists(path):
            errs.append(f"{p['file']}: missing")
            continue
        with Image.open(path) as im:
            dpi = im.info.get("dpi")
            if not dpi or round(float(dpi[0])) != DPI:
                errs.append(f"{p['file']}: dpi {dpi}, expected {DPI}")
            if list(im.size) != p["size_px"]:
                errs.append(f"{p['file']}: size {im.size} != manifest {p['size_px']}")
        with open(os.path.join(out_dir, p["gt"]), encoding="utf-8") as f:
            if f.read() != p["text"] + "\n":
                errs.append(f"{p['gt']}: differs from the manifest text")
        if not p["text"].strip() or "\f" in p["text"]:
            errs.append(f"{p['file']}: empty text or a form feed in a page's text")
    for d in manifest["documents"]:
        text = "\f".join(p["text"] for p in pages if p["doc"] == d["doc"])
        if text != d["text"]:
            errs.append(f"document {d['doc']}: pages do not add up to its text")
        errs += [f"document {d['doc']}: {e}" for e in check_fields(d["type"], d["fields"])]
        errs += [f"document {d['doc']}: keyword {w!r} not in text"
                 for w in d["keywords"] if w not in d["text"]]
    for e in errs:
        print(f"check: {e}")
    for line in eval_composition(pages):
        print(f"check: eval: {line}")
    print(f"check: eval set, {len(pages)} pages, {len(errs)} problems")
    return 1 if errs else 0


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

def check_fields(typ, f):
    errs = []
    isdate = lambda v: _isdate(v)
    amount = lambda v: isinstance(v, str) and _isamount(v)
    need = {"factura": ["numero", "fecha", "emisor_cif", "cliente_nif", "base",
                        "iva_pct", "iva", "total", "iban"],
            "dni": ["numero", "nombre", "apellidos", "nacimiento", "caducidad"],
            "justificante_bancario": ["fecha", "importe", "iban_ordenante",
                                      "iban_beneficiario", "referencia"],
            "nomina": ["empresa_cif", "trabajador_nif", "periodo", "bruto", "neto",
                       "iban"],
            "contrato": ["fecha", "prestador_cif", "cliente_nif", "importe"],
            "reclamacion": ["numero", "fecha", "reclamante_nif", "cups"],
            "albaran": ["numero", "pedido", "fecha", "emisor_cif"]}[typ]
    for k in need:
        if k not in f:
            errs.append(f"missing field {k}")
    for k, v in f.items():
        if k in ("fecha", "nacimiento", "caducidad") and not isdate(v):
            errs.append(f"{k}={v!r} not a real YYYY-MM-DD date")
        if k in ("base", "iva", "total", "importe", "bruto", "neto") and not amount(v):
            errs.append(f"{k}={v!r} not a canonical amount")
        if k.endswith("_cif") and not valid_cif(v):
            errs.append(f"{k}={v!r} fails the CIF check")
        if k.endswith("_nif") and not valid_nif(v):
            errs.append(f"{k}={v!r} fails the NIF/NIE/CIF check")
        if k.startswith("iban") and not valid_iban(v):
            errs.append(f"{k}={v!r} fails IBAN mod-97 or CCC digits")
        if k == "cups" and not valid_cups(v):
            errs.append(f"cups={v!r} fails the CUPS control letters")
        if k == "periodo" and not _isdate(v + "-01"):
            errs.append(f"periodo={v!r} not YYYY-MM")
    if typ == "dni" and not (valid_dni(f.get("numero", "")) or valid_nie(f.get("numero", ""))):
        errs.append("dni numero fails DNI/NIE check")
    if typ == "factura" and not errs:
        b, i, t = Decimal(f["base"]), Decimal(f["iva"]), Decimal(f["total"])
        if b + i != t:
            errs.append("factura: base + iva != total")
        if money(b * Decimal(f["iva_pct"]) / 100) != i:
            errs.append("factura: iva != base x rate")
        if f["iva_pct"] not in ("21", "10", "4"):
            errs.append("factura: iva_pct not 21/10/4")
    if typ == "nomina" and not errs and Decimal(f["neto"]) > Decimal(f["bruto"]):
        errs.append("nomina: neto > bruto")
    return errs


def _isdate(v):
    try:
        return isinstance(v, str) and len(v) == 10 and date.fromisoformat(v).isoformat() == v
    except ValueError:
        return False


def _isamount(v):
    try:
        return f"{Decimal(v):.2f}" == v
    except Exception:
        return False


def run_check(out_dir):
    self_test_validators()
    assert amount_in_words(Decimal("21001")) == "VEINTIÚN MIL UN EUROS"
    assert amount_in_words(Decimal("18500")) == "DIECIOCHO MIL QUINIENTOS EUROS"
    assert fmt_eur(Decimal("1234.5")) == "1.234,50 €"
    files = sorted(f for f in os.listdir(out_dir) if f.endswith(".expected.json"))
    if not files:
        print(f"check: no *.expected.json in {out_dir}", file=sys.stderr)
        return 1
    bad = 0
    for fn in files:
        with open(os.path.join(out_dir, fn), encoding="utf-8") as f:
            e = json.load(f)
        errs = []
        if not os.path.exists(os.path.join(out_dir, e["file"])):
            errs.append(f"file {e['file']} missing")
        if e["type"] not in TYPES:
            errs.append(f"unknown type {e['type']}")
        if e["text"].count("\f") != e["pages"] - 1:
            errs.append("page count does not match the form feeds in text")
        for w in e.get("keywords", []):
            if w not in e["text"]:
                errs.append(f"keyword {w!r} not in text")
        errs += check_fields(e["type"], e["fields"])
        for k, v in e["fields"].items():
            shown = [v, v.replace(".", ",")]
            if k in ("iban", "iban_ordenante", "iban_beneficiario"):
                shown.append(fmt_iban(v))
            if k in ("base", "iva", "total", "importe", "bruto", "neto"):
                shown.append(fmt_num(Decimal(v)))
            if k == "cups":
                shown.append(f"{v[:2]} {v[2:6]} {v[6:10]} {v[10:14]} {v[14:18]} {v[18:]}")
            if k in ("fecha", "nacimiento", "caducidad", "periodo"):
                continue  # shown in several formats
            if k in ("nombre", "apellidos", "iva_pct"):
                continue
            if not any(s in e["text"] for s in shown):
                errs.append(f"field {k}={v!r} does not appear in the text")
        if errs:
            bad += 1
            for er in errs:
                print(f"check: {fn}: {er}")
    print(f"check: {len(files)} expected files, {bad} with problems; "
          f"validators self-test passed")
    return 1 if bad else 0


def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def norm_ws(s):
    return "\n".join(" ".join(l.split()) for l in s.replace("\f", "\n").splitlines()
                     if l.strip())


def extract_pdf_jpegs(path, folder):
    """The page images of a scanned PDF written by this script (raw DCT streams)."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for i, chunk in enumerate(data.split(b"endstream")[:-1]):
        head, sep, body = chunk.partition(b"stream\n")
        if b"/DCTDecode" not in head or not sep:
            continue
        p = os.path.join(folder, f"page{i:03d}.jpg")
        with open(p, "wb") as f:
            f.write(body.rstrip(b"\r\n"))
        out.append(p)
    return out


def run_ocr_check(out_dir):
    if not shutil.which("tesseract"):
        print("ocr-check: tesseract not found", file=sys.stderr)
        return 1
    files = sorted(f for f in os.listdir(out_dir) if f.endswith(".expected.json"))
    bad = 0
    for fn in files:
        with open(os.path.join(out_dir, fn), encoding="utf-8") as f:
            e = json.load(f)
        deg = e["degradation"]
        if deg is None:
            continue
        path = os.path.join(out_dir, e["file"])
        with tempfile.TemporaryDirectory() as td:
            inputs = [path]
            if e["file"].endswith(".pdf"):
                inputs = extract_pdf_jpegs(path, td)
            txt = ""
            for inp in inputs:
                r = subprocess.run(["tesseract", inp, "-", "-l", "spa+eng"],
                                   capture_output=True, text=True)
                txt += r.stdout
        ref, hyp = norm_ws(e["text"]), norm_ws(txt)
        cer = levenshtein(ref, hyp) / max(1, len(ref))
        missing = [w for w in e["keywords"] if w.lower() not in txt.lower()]
        rot = deg.get("rotation", 0)
        flag = "" if not missing else f" MISSING {missing}"
        if missing and rot == 0:
            bad += 1
        print(f"{e['file']:32s} rot={rot:3d} skew={deg['skew_deg']:+.2f} "
              f"CER={cer * 100:6.2f}%{flag}")
    return 1 if bad else 0


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " Without --count it writes the "
        "committed sample set (seed %d, 7 born-digital PDFs + 9 scans)." % DEFAULT_SEED,
        epilog="Files are named NN_type.pdf (born-digital) and NN_type_scan*.ext "
        "(degraded), each with NN_type*.expected.json beside it. See "
        "samples/README.md for the JSON schema.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output folder (default for the committed set "
                    "and the checks: the folder of this script; required with "
                    "--count)")
    ap.add_argument("--seed", type=int, default=None,
                    help="random seed (default %d, or %d with --profile eval); "
                    "same seed, same files" % (DEFAULT_SEED, EVAL_SEED))
    ap.add_argument("--count", type=int, default=0,
                    help="make N documents, types in turn, instead of the "
                    "committed set; document i is the same whatever N is "
                    "(--profile eval: default %d)" % EVAL_DOCS)
    ap.add_argument("--types", default=",".join(TYPES),
                    help="comma-separated types for --count (default: all seven)")
    ap.add_argument("--kind", choices=["both", "pdf", "scan"], default="both",
                    help="for --count: born-digital PDF, degraded scan, or both")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="moderate",
                    help="degradation profile for scans (default moderate; "
                    "'hard' = issue 4 evaluation: skew to 5 deg, 90/180/270 pages, "
                    "JPEG 35-90; 'eval' = the issue 4 evaluation set for "
                    "bench/ocr_eval.sh: one gray JPEG/PNG per page, a .gt.txt "
                    "beside each and manifest.json, its own seed and names; "
                    "needs --out)")
    ap.add_argument("--formats", default="jpeg,jpeg,png-1bit,tiff-g4,pdf-jpeg",
                    help="for --count: scan formats drawn at random (repeat one "
                    "to weight it); any of " + ", ".join(EXT))
    ap.add_argument("--font-dir", help="folder holding the DejaVu TTF fonts")
    ap.add_argument("--check", action="store_true",
                    help="validate the *.expected.json in --out (identifiers, "
                    "dates, sums, files present) and exit")
    ap.add_argument("--ocr-check", action="store_true",
                    help="OCR every scan in --out with tesseract spa+eng, print "
                    "CER and missing keywords, and exit (slow)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="--profile eval: pages rendered in parallel (default: "
                    "one process per core)")
    args = ap.parse_args(argv)
    eval_set = args.profile == "eval"
    if args.seed is None:
        args.seed = EVAL_SEED if eval_set else DEFAULT_SEED
    if args.out is None:
        if eval_set:
            ap.error("--profile eval needs --out DIR (the set is not committed)")
        if args.count > 0:
            ap.error("--count needs --out DIR (so that samples/ is not filled by mistake)")
        args.out = os.path.dirname(os.path.abspath(__file__))

    manifest_path = os.path.join(args.out, "manifest.json")
    if args.check and os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("generator", {}).get("profile") == "eval":
            return run_check_eval(args.out, manifest)
    if args.check:
        return run_check(args.out)
    if args.ocr_check:
        return run_ocr_check(args.out)

    init_fonts(args.font_dir)
    os.makedirs(args.out, exist_ok=True)
    written = []
    if eval_set:
        if args.seed in (DEFAULT_SEED, 9001):
            print(f"generate: warning: seed {args.seed} is used elsewhere (committed "
                  "samples, README examples); an evaluation set wants its own",
                  file=sys.stderr)
        written = make_eval_set(args.seed, args.count or EVAL_DOCS, args.out,
                                max(1, args.jobs))
        print(f"generate: wrote {len(written)} page images (+ .gt.txt, "
              f"manifest.json) to {args.out}")
        return 0
    if args.count <= 0:
        for index, typ, outputs, *opts in COMMITTED:
            written += make_document(args.seed, index, typ, outputs, args.out,
                                     args.profile, max_skew=3.0,
                                     opts=opts[0] if opts else None)
    else:
        types = [t.strip() for t in args.types.split(",") if t.strip()]
        for t in types:
            if t not in TYPES:
                ap.error(f"unknown type {t!r}; known: {', '.join(TYPES)}")
        formats = [f.strip() for f in args.formats.split(",") if f.strip()]
        for f in formats:
            if f not in EXT:
                ap.error(f"unknown format {f!r}; known: {', '.join(EXT)}")
        width = max(4, len(str(args.count)))
        for i in range(1, args.count + 1):
            typ = types[(i - 1) % len(types)]
            frng = random.Random(doc_seed(args.seed, i, "format"))
            outs = []
            if args.kind in ("both", "pdf"):
                outs.append("pdf")
            if args.kind in ("both", "scan"):
                outs.append((frng.choice(formats), None, "scan"))
            written += make_document(args.seed, i, typ, outs, args.out, args.profile,
                                     stem_width=width)
            if i % 20 == 0:
                print(f"generate: {i}/{args.count} documents", file=sys.stderr)
    print(f"generate: wrote {len(written)} files (+ .expected.json) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
