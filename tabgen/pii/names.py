"""PII types and the detection of PII-like columns by their name."""

from __future__ import annotations

import re

from tabgen.schema import _ID_NAME

PII_TYPES: tuple[str, ...] = (
    "email",
    "phone",
    "person_name",
    "address",
    "ip",
    "url",
    "card",
    "iban",
    "ssn",
    "postcode",
    "free_text",
    "key",
)

# ---------------------------------------------------------------------------------------------
# detection by column name
# ---------------------------------------------------------------------------------------------
#: Phrases (tokens joined without separators, so "first name", "firstName" and "firstname" are
#: one entry) that name a PII type. The longest phrase found in a column name decides.
_NAME_VOCAB: dict[str, str] = {
    **dict.fromkeys(("email", "mail", "emailaddress", "emailaddr", "mailaddress"), "email"),
    **dict.fromkeys(
        (
            "phone",
            "tel",
            "telephone",
            "mobile",
            "fax",
            "phonenumber",
            "phoneno",
            "telno",
            "cellphone",
            "cellnumber",
            "mobilephone",
            "mobilenumber",
            "msisdn",
        ),
        "phone",
    ),
    **dict.fromkeys(
        (
            "firstname",
            "lastname",
            "surname",
            "fullname",
            "username",
            "givenname",
            "familyname",
            "middlename",
            "forename",
            "nickname",
            "maidenname",
        ),
        "person_name",
    ),
    **dict.fromkeys(
        ("address", "addr", "street", "streetaddress", "streetname", "addressline"), "address"
    ),
    **dict.fromkeys(("ip", "ipv4", "ipv6", "ipaddress", "ipaddr"), "ip"),
    **dict.fromkeys(("url", "website", "homepage", "webaddress"), "url"),
    **dict.fromkeys(
        ("creditcard", "cardnumber", "cardno", "ccn", "ccnumber", "pan", "creditcardnumber"),
        "card",
    ),
    **dict.fromkeys(("iban", "accountnumber", "accountno", "bankaccount"), "iban"),
    **dict.fromkeys(
        (
            "ssn",
            "socialsecurity",
            "socialsecuritynumber",
            "nationalid",
            "passport",
            "taxid",
            "nationalinsurance",
        ),
        "ssn",
    ),
    **dict.fromkeys(("zip", "zipcode", "postcode", "postalcode"), "postcode"),
    **dict.fromkeys(
        ("comment", "comments", "note", "notes", "description", "freetext", "remark", "remarks"),
        "free_text",
    ),
    # a MAC address identifies a device: regenerated as a key, never as a street address
    **dict.fromkeys(("macaddress", "macaddr"), "key"),
}
#: Words before "name" that make it something other than a person's name.
_NOT_PERSON = frozenset(
    "file host col column table field product company brand item server domain model class "
    "category variable var feature device machine app application package project event city "
    "country state region province store shop org organisation organization business bank "
    "school team group dataset data sheet attribute attr tag label type department dept job "
    "role course program species drug disease place location town site page branch unit style "
    "font color colour song album movie film title book game street module function "
    "method index key".split()
)
#: Tokens that make a PII-sounding name a property of the value (a date, a count, a flag ...).
_NEGATIVE = frozenset(
    "date time timestamp datetime count cnt counts flag is has verified valid validated opened "
    "sent clicked bounced type status len length domain provider format changed updated opt "
    "optin consent country city state region enabled confirmed file path size".split()
)
_COUNT_PREFIX = frozenset("num n nb no nr total count cnt".split())
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_FLAG_VALUES = frozenset({"yes", "no", "y", "n", "true", "false", "t", "f", "0", "1"})


def _tokens(name) -> list[str]:
    """Lower-case tokens of a column name: split on non-alphanumerics, camelCase and digits.

    >>> _tokens("customerEmailAddress"), _tokens("IPv4"), _tokens("zip_code2")
    (['customer', 'email', 'address'], ['i', 'pv', '4'], ['zip', 'code', '2'])
    """
    out: list[str] = []
    for part in re.split(r"[\W_]+", str(name)):
        out.extend(t.lower() for t in _CAMEL.findall(part))
    return out


def _type_from_name(name) -> str | None:
    """The PII type a column name points to (``"key"`` included), or None."""
    tokens = _tokens(name)
    if not tokens:
        return None
    if set(tokens) & _NEGATIVE or (len(tokens) > 1 and tokens[0] in _COUNT_PREFIX):
        return None
    for size in (3, 2, 1):
        hits = [
            _NAME_VOCAB.get("".join(tokens[i : i + size])) for i in range(len(tokens) - size + 1)
        ]
        hits = [h for h in hits if h is not None]
        if hits:
            return hits[-1]  # the head noun is usually last: "home_phone_email" is an email
    if tokens == ["cell"]:
        return "phone"
    for i, tok in enumerate(tokens):
        if tok in ("name", "names") and (i == 0 or tokens[i - 1] not in _NOT_PERSON):
            return "person_name"
    if (
        _ID_NAME.search(str(name))
        or tokens[-1] in ("id", "uuid", "guid")
        or tokens[0] in ("uuid", "guid")
    ):
        return "key"
    return None
