"""Detect PII-like columns and generate fresh, format-preserving fake values for them.

PII-like columns (emails, phone numbers, person names, street addresses, IPs, URLs, card, IBAN
and social-security numbers, postcodes, free text) and key columns are never learned by a
generative model: :func:`detect_pii` finds them, and :class:`FakeColumn` replaces them with
fresh values of the same format.

What a :class:`FakeColumn` learns from the real column is only aggregate and non-identifying
(all of it is in ``facts_``, a JSON-serialisable dict):

* the missing rate;
* for the shape-preserving types (``phone``, ``postcode``, ``card``, ``iban``, ``ssn``,
  string ``key``), the *shapes* of the values — letters become ``a``/``A``, digits ``9``,
  other characters are kept, so ``"+47 912 34 567"`` has the shape ``"+99 999 99 999"`` —
  and only the shapes seen at least ``min_count`` times, with their frequencies: a format used
  by fewer than ``min_count`` people (a single foreign number, a typo) is never released;
* for ``person_name``, ``address`` and ``free_text``, the distribution of the number of words
  (capped and binned, bins below ``min_count`` dropped);
* for keys, whether they are integers or UUIDs; for IPs, the share of IPv6 addresses.

No real value is ever stored.

Why generated values do not coincide with real ones
---------------------------------------------------
Most types use ranges reserved for examples or never assigned, so a collision with a real
value is impossible unless the real data already use these reserved ranges:

=============  ==================================================================================
email          ``<word>.<word><digits>@example.com`` / ``.org`` / ``.net`` (RFC 2606)
url            ``https://www.example.com/<word>`` (also ``.org`` / ``.net``)
ip             IPv4 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737); IPv6
               2001:db8::/32 (RFC 3849)
phone          the learned shapes and country prefixes, the last seven digits in the fictional
               555-0100 ... 555-0199 range (``"+1 212 555 0142"``, ``"+47 95550142"``);
               shapes of fewer than 7 digits are filled at random
card           the learned shapes, first digit ``0`` (major industry identifier 0 is not used by
               card issuers, ISO/IEC 7812), valid Luhn check digit
iban           the learned shapes, country code ``QM`` ... ``QZ`` (user-assigned in ISO 3166,
               never a country), valid ISO 13616 check digits
ssn            nine-digit shapes as ``9dd-00-dddd``: area 900-999 with group 00 is never issued
               (neither SSN nor ITIN); other shapes are filled at random
=============  ==================================================================================

Names and street addresses look real (:mod:`tabgen.pii.realistic`): Faker's, in the table's
locale, when Faker is installed (``pip install tabgen[pii]``), otherwise common given names,
surnames and street words from short built-in lists. They are drawn without looking at any
real value, but, names not being unique, a generated name can coincide with a real person's.
Free text is built from random pronounceable syllables, so it is essentially never a real
sentence. Phone numbers keep the country code and first national digit shared by at least
``min_count`` real values (``"+47 9"``), then the fictional ``555 01`` digits.
Postcodes and string keys are filled at random in their learned shapes: a generated value
is then (close to) uniform over the shape's space ``S``, and the chance that one of ``n``
generated values equals one of the ``m`` real values of that shape is at most ``n * m / |S|``
(for example ``1e4 * 1e4 / 26**3 / 10**6 < 6e-3`` for keys shaped ``"AAA999999"``).
Postcodes are not unique identifiers and will coincide with real ones; that is harmless,
since the value is drawn without looking at any real value and lands in an unrelated synthetic
row. Integer keys are the row numbers ``offset + 1 ... offset + n`` (the real key range is not
used) and may equal real keys numerically in the same way.
"""

from tabgen.pii.detect import detect_pii
from tabgen.pii.fake import FakeColumn
from tabgen.pii.names import PII_TYPES

__all__ = ["PII_TYPES", "FakeColumn", "detect_pii"]
