"""Matching a file's column headers to contact fields.

Headers are compared folded: case, accents, spaces and punctuation are
ignored, so ``E-mail Address``, ``e_mail`` and ``EMAIL`` are one. The
aliases cover the exports of Google Contacts, Outlook, Mailchimp, HubSpot
and LinkedIn, and French, German, Spanish and Portuguese headers. A column
that is no core field goes to ``extra`` under its header as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from chalicelib.formulas import unguarded

_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "adresse de messagerie",
        "direccion de correo electronico",
        "email",
        "e-mail",
        "mail",
        "email address",
        "e-mail address",
        "emailaddress",
        "email 1",
        "e-mail 1 - value",
        "email 1 - value",
        "primary email",
        "e-mail 1",
        "personal email",
        "courriel",
        "adresse e-mail",
        "adresse email",
        "adresse mail",
        "mel",
        "e-mail-adresse",
        "emailadresse",
        "correo",
        "correo electronico",
        "correo-e",
        "email principal",
        "endereco de email",
        "endereco de e-mail",
        "e-mail principal",
        # Italian, Dutch, Polish, Nordic, Turkish, Russian, Japanese, Chinese, Korean.
        "indirizzo email",
        "indirizzo e-mail",
        "posta elettronica",
        "e-mailadres",
        "emailadres",
        "adres e-mail",
        "adres email",
        "e-post",
        "epost",
        "sahkoposti",
        "e-posta",
        "eposta",
        "электронная почта",
        "эл. почта",
        "e-mail адрес",
        "email адрес",
        "почта",
        "メールアドレス",
        "メール",
        "電子メール",
        "電子郵件",
        "电子邮件",
        "电子邮箱",
        "邮箱",
        "邮件地址",
        "이메일",
        "이메일 주소",
        "전자우편",
        "email (work)",
        "email (home)",
        "email (personal)",
        "email address 1",
        # Further addresses: used when the first email column of a row is empty.
        "e-mail 2 address",
        "e-mail 3 address",
        "e-mail 2 - value",
        "e-mail 3 - value",
        "email 2",
        "email 3",
        "secondary email",
        "work email",
        "home email",
        "other email",
        "e-mail 2: adresse",
        "e-mail 3: adresse",
        "adresse de messagerie 2",
        "adresse de messagerie 3",
        "correo electronico 2",
        "direccion de correo electronico 2",
        "direccion de correo electronico 3",
        "endereco de email 2",
    ),
    "first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "forename",
        "fname",
        "prenom",
        "vorname",
        "nombre",
        "primer nombre",
        "primeiro nome",
        "nome proprio",
        "nome",
        "voornaam",
        "imie",
        "etunimi",
        "fornavn",
        "förnamn",
        "имя",
        "名",
        "名字",
        "이름",
    ),
    "last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "lname",
        "nom",
        "nom de famille",
        "nachname",
        "familienname",
        "apellido",
        "apellidos",
        "sobrenome",
        "apelido",
        "ultimo nome",
        "cognome",
        "achternaam",
        "nazwisko",
        "sukunimi",
        "etternavn",
        "efternamn",
        "soyad",
        "soyadi",
        "фамилия",
        "姓",
        "성",
    ),
    "phone": (
        "telephone mobile",
        "mobil",
        "phone",
        "phone number",
        "telephone",
        "telephone number",
        "tel",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "cellphone",
        "phone 1 - value",
        "primary phone",
        "business phone",
        "home phone",
        "mobile phone number",
        "phone (mobile)",
        "whatsapp",
        "sms",
        "telephone portable",
        "portable",
        "numero de telephone",
        "tel portable",
        "telefon",
        "telefonnummer",
        "handy",
        "handynummer",
        "mobilnummer",
        "mobiltelefon",
        "telefono",
        "movil",
        "celular",
        "telefono movil",
        "telefone",
        "telemovel",
        "numero de telefone",
        "numero di telefono",
        "cellulare",
        "telefoonnummer",
        "mobiel",
        "numer telefonu",
        "telefon komorkowy",
        "puhelin",
        "puhelinnumero",
        "telefonnummer",
        "mobilnummer",
        "телефон",
        "мобильный",
        "мобильный телефон",
        "номер телефона",
        "電話番号",
        "電話",
        "携帯電話",
        "携帯",
        "电话",
        "电话号码",
        "手机",
        "手机号码",
        "手機",
        "联系电话",
        "전화번호",
        "휴대폰",
        "휴대전화",
        "phone (work)",
        "phone (home)",
        # Further numbers (Outlook's and Google's), used when the first is empty.
        # Faxes and pagers are no phones to text.
        "phone 2 - value",
        "phone 3 - value",
        "business phone 2",
        "home phone 2",
        "other phone",
        "company main phone",
        "car phone",
        "work phone",
        "telefon geschaftlich",
        "telefon geschaftlich 2",
        "telefon privat",
        "telefon privat 2",
        "weiteres telefon",
        "haupttelefon",
        "telefon firma",
        "telephone bureau",
        "telephone bureau 2",
        "telephone domicile",
        "telephone domicile 2",
        "tel mobile",
        "telephone autre",
        "autre telephone",
        "telephone principal",
        "telefono del trabajo",
        "telefono del trabajo 2",
        "telefono particular",
        "telefono particular 2",
        "telefono movil",
        "otro telefono",
        "telefono principal",
        "telefone comercial",
        "telefone comercial 2",
        "telefone residencial",
        "telefone celular",
        "outro telefone",
        "telefone principal",
    ),
    "full_name": (
        "name",
        "full name",
        "fullname",
        "display name",
        "contact name",
        "contact",
        "nom complet",
        "vollstandiger name",
        "nombre completo",
        "nome completo",
        "nome e cognome",
        "naam",
        "imie i nazwisko",
        "фио",
        "氏名",
        "名前",
        "姓名",
    ),
}


def fold(header: str) -> str:
    """``header`` without case, accents, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", header.strip().lstrip("\ufeff"))
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", no_accents.casefold())


_FIELD_BY_FOLDED = {fold(alias): name for name, aliases in _ALIASES.items() for alias in aliases}


MAX_LABEL = 100


@dataclass
class ColumnMap:
    """Which column holds which field; the rest go to ``extra`` by header.

    ``core`` is the first column naming a field; ``fallbacks`` are later ones
    naming the same field, used when the first is empty in a row (Outlook's
    Business, Home and Mobile Phone). Fallback columns stay in ``extra`` too, unless their value
    became the field's (see ``rows.parse_row``).
    """

    core: dict[str, int] = field(default_factory=dict)
    fallbacks: dict[str, list[int]] = field(default_factory=dict)
    extra: dict[int, str] = field(default_factory=dict)
    width: int = 0

    @property
    def has_address(self) -> bool:
        return "email" in self.core or "phone" in self.core

    def field_at(self, index: int) -> str:
        """The field a column fills: a core field's name, else its ``extra`` label."""
        for name, core_index in self.core.items():
            if core_index == index:
                return name
        return self.extra.get(index) or column_label(index)


def column_label(index: int) -> str:
    """The name of an unnamed column: ``column 5``."""
    return f"column {index + 1}"


def field_for(header: str) -> str | None:
    """The core field a header names, if any."""
    return _FIELD_BY_FOLDED.get(fold(header))


def map_columns(headers: list[str]) -> ColumnMap:
    """The first column naming a core field holds it; others keep their header in ``extra``.

    Labels in ``extra`` are unique (`` (2)`` is added to a repeated one), so no
    column's value can overwrite another's.
    """
    columns = ColumnMap(width=len(headers))
    used_names: set[str] = set()

    def label_for(index: int) -> str:
        # A column with no header keeps its cells, under its position.
        label = " ".join(unguarded(headers[index].replace("\ufeff", "")).split())[:MAX_LABEL]
        label = label or column_label(index)
        unique, count = label, 1
        while unique in used_names:
            # "Notes (2)", "Notes (3)": cut to leave room, so the label stays a valid name.
            count += 1
            suffix = f" ({count})"
            unique = label[: MAX_LABEL - len(suffix)] + suffix
        used_names.add(unique)
        return unique

    for index, header in enumerate(headers):
        name = field_for(header)
        if name and name not in columns.core:
            columns.core[name] = index
            continue
        if name:
            columns.fallbacks.setdefault(name, []).append(index)
        columns.extra[index] = label_for(index)
    # "Nome" / "Nombre" alone (Brazil, Spain) and "Nom" alone (France) hold
    # the whole name; beside a surname or a first name they are the other half.
    for name, other in (("first_name", "last_name"), ("last_name", "first_name")):
        column = columns.core.get(name)
        if (
            column is not None
            and other not in columns.core
            and "full_name" not in columns.core
            and fold(headers[column]) in _WHOLE_NAME_WHEN_ALONE
        ):
            columns.core["full_name"] = columns.core.pop(name)
    # A full-name column is only a name when there are no first/last columns;
    # a lone "Name" beside a first name and no last name is the surname
    # (German "Vorname; Name").
    if "full_name" in columns.core and {"first_name", "last_name"} & set(columns.core):
        index = columns.core.pop("full_name")
        lone = [fold(h) for h in headers].count("name") == 1
        if "last_name" not in columns.core and fold(headers[index]) == "name" and lone:
            columns.core["last_name"] = index
        else:
            columns.extra[index] = label_for(index)
    return columns


_WHOLE_NAME_WHEN_ALONE = frozenset({"nome", "nombre", "nom"})


def looks_like_header(row: list[str]) -> bool:
    """A row naming an email or a phone column, and holding no address: a contact
    named Mel (French for email) or Cell is data."""
    named = any(field_for(cell) in ("email", "phone") for cell in row if cell.strip())
    return named and not has_address(row)


# An address as files hold them; the contacts module judges it later.
_EMAIL_LIKE = re.compile(r"[^@\s<>,;:]+@[^@\s<>,;:]+\.[^@\s<>,;:.]+")
EMAIL_HEADER = "Email"


def find_header(rows: list[list[str]]) -> tuple[int, list[str]] | None:
    """Where no header names an email or phone column: the header found by content.

    A list of addresses under a header in a language not known here
    (``Adresă de email``) or under none at all (a plain list of emails) is
    still a list of contacts. Returns the index of the header row in
    ``rows`` with its email column renamed, ``-1`` and a header made up
    (``Email``, ``column 2``…) when the first row with something in it is
    already data, or None when no single column clearly holds addresses:
    then nothing is guessed, and the file fails saying why.
    """
    filled = [i for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    if not filled:
        return None
    if has_address(rows[filled[0]]):
        column = email_column([rows[i] for i in filled])
        if column is None:
            return None
        width = max(len(rows[i]) for i in filled)
        made_up = [column_label(index) for index in range(width)]
        made_up[column] = EMAIL_HEADER
        return -1, made_up
    for position, index in enumerate(filled[:-1]):
        candidate, below = rows[index], [rows[i] for i in filled[position + 1 :]]
        if has_address(candidate):
            return None  # data before any header: not a layout to guess at
        column = email_column(below)
        # A header names its columns: a title line has nothing above the addresses.
        if column is not None and column < len(candidate) and candidate[column].strip():
            return index, with_email_column(candidate, column)
    return None


def has_address(row: list[str]) -> bool:
    """Whether a cell of the row holds an email address (no header does)."""
    return any("@" in cell and _EMAIL_LIKE.search(cell) for cell in row)


def email_column(rows: list[list[str]], taken: frozenset[int] = frozenset()) -> int | None:
    """The one column (not in ``taken``) whose cells in ``rows`` are addresses: one in
    the first row, most of its filled cells, and different ones (a manager's address on
    every row is not the contact's). None when no column, or more than one, is."""
    if not rows:
        return None
    found = []
    for column, cell in enumerate(rows[0]):
        if column in taken or not _EMAIL_LIKE.search(cell):  # "Ana <ana@x.com>" too
            continue
        cells = [row[column].strip() for row in rows if column < len(row) and row[column].strip()]
        addresses = [cell for cell in cells if _EMAIL_LIKE.search(cell)]
        mostly = len(addresses) >= len(cells) * 0.6
        if mostly and (len(rows) == 1 or len(set(addresses)) > len(addresses) * 0.5):
            found.append(column)
    return found[0] if len(found) == 1 else None


def with_email_column(header: list[str], column: int) -> list[str]:
    """The header with ``column`` named as the email column (widened if it ends before)."""
    named = list(header) + [""] * (column + 1 - len(header))
    named[column] = EMAIL_HEADER
    return named
