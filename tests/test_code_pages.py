"""Legacy code pages: which one a non-UTF-8 contact file is read in.

Each text is a contact file as Excel's "CSV" writes it on a Windows of that
language; it must read back exactly, however short, and Western files must
never be taken for another script.
"""

from __future__ import annotations

import io

import pytest

ENGLISH_ROWS = "".join(f"person{n}@example.com,John,Smith,London\r\n" for n in range(2500))

CASES = [
    # Western files, a few accents among plain letters, capitals too.
    ("email,first_name,last_name,city\r\np0@example.com,John,NÚÑEZ,London\r\n", "cp1252"),
    ("email,first_name,last_name\r\np@example.com,ÍÑIGO,ÜÇÜNCÜ\r\n", "cp1252"),
    ("Email;Vorname;Nachname;Ort\r\np0@example.de;Hans;Küçük;Berlin\r\n", "cp1252"),
    ("Email;Vorname;Nachname;Ort\r\np1@example.de;Hans;Ünlü;Berlin\r\n", "cp1252"),
    ("email,address\r\na@example.com,N° 12 rue Zoë\r\n", "cp1252"),
    ("email,name,notes\r\no@example.ie,Seán O’Brien,l’Été — 12 € ¿Qué? Paral·lel\r\n", "cp1252"),
    ("Email;Navn\r\nk@example.dk;Søren Ørsted\r\nj@example.is;Guðrún Þórsdóttir\r\n", "cp1252"),
    # Polish: Windows-1250 letters that cp1252 shows as symbols.
    ("Email;Imię;Nazwisko;Miasto\r\nl@example.pl;Łukasz;Wąsik;Łódź\r\n", "cp1250"),
    # Other scripts, capitals and one-row files too.
    ("email,first_name,last_name\r\nm@example.ru,МАРИЯ,ИВАНОВА\r\n", "cp1251"),
    ("email,first_name,last_name\r\nm@example.ru,Иван,Петров\r\n", "cp1251"),
    ("email,first_name,last_name\r\nn@example.gr,ΝΙΚΟΣ,ΠΑΠΑΔΟΠΟΥΛΟΣ\r\n", "cp1253"),
    ("email,first_name\r\nn@example.gr,Νίκος Παπαδόπουλος\r\n", "cp1253"),
    ("email,name,city\r\nd@example.il,דוד כהן,תל אביב\r\n", "cp1255"),
    ("email,name,city\r\nm@example.sa,محمد العلي,الرياض\r\n", "cp1256"),
    ("email,name,city\r\nt@example.jp,山田 太郎,東京都\r\n", "cp932"),
    ("email,name,city\r\nk@example.kr,김민준,서울\r\ns@example.kr,이서연,부산\r\n", "cp949"),
    ("email,name,city\r\nl@example.cn,李华,上海\r\nz@example.cn,张伟,广州\r\n", "gb18030"),
    ("email,name,city\r\na@example.tw,陳美玲,台北市\r\n", "big5"),
    ("email,first_name\r\nm@example.ua,Мар’яна\r\n", "cp1251"),
    ("email,name,city\r\nw@example.cn,王小明,北京市\r\n", "gb18030"),
    # A long English list with one Russian name in its last row.
    (
        "Email,First,Last,City\r\n" + ENGLISH_ROWS + "m@example.ru,Мария,Иванова,Москва\r\n",
        "cp1251",
    ),
]


@pytest.mark.parametrize(
    ("text", "encoding"), CASES, ids=[f"{e}-{n}" for n, (_, e) in enumerate(CASES)]
)
def test_a_legacy_file_reads_back_exactly(text: str, encoding: str) -> None:
    from chalicelib.imports.textfiles import read_rows

    _, rows = read_rows(io.BytesIO(text.encode(encoding)))
    delimiter = ";" if ";" in text.splitlines()[0] else ","
    expected = [line.split(delimiter) for line in text.splitlines()]
    assert [row for row in rows if row] == expected


@pytest.mark.parametrize(
    "data",
    [
        b"Contacts export\nemail;name\na@example.com;Zoe\n",
        b"Contacts\nJanuary 2024\nemail;name\na@example.com;Zoe\nb@example.com;Ann\n",
        b"Exported from Outlook, 2024-01-01\nemail;name;city\na@example.com;Zoe;Paris\n",
    ],
)
def test_a_short_file_with_a_title_line_finds_its_delimiter(data: bytes) -> None:
    from chalicelib.imports.textfiles import read_rows

    fmt, rows = read_rows(io.BytesIO(data))
    assert fmt.delimiter == ";"
    assert next(r for r in rows if r and "@" in r[0])[:2] == ["a@example.com", "Zoe"]


def test_a_dos_end_of_file_mark_or_a_line_of_bad_bytes_is_a_blank_row() -> None:
    from chalicelib.imports.textfiles import read_rows

    data = "email,name\r\na@example.com,Zoë\r\n\ufffd\r\n".encode() + b"\x1a"
    _, rows = read_rows(io.BytesIO(data))
    assert list(rows) == [["email", "name"], ["a@example.com", "Zoë"], [], []]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_reads_in_any_script(encoding: str) -> None:
    from chalicelib.imports.textfiles import read_rows

    text = "email\tимя\tфамилия\r\nm@example.ru\tМария\tИванова\r\nn@example.gr\tΝίκος\t山田\r\n"
    fmt, rows = read_rows(io.BytesIO(text.encode(encoding)))
    assert fmt.encoding == encoding
    assert list(rows) == [line.split("\t") for line in text.splitlines()]
