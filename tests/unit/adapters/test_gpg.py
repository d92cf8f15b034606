# SPDX-License-Identifier: Apache-2.0
"""The gpg adapter's parser of `gpg --with-colons` key listings."""

from __future__ import annotations

from release.adapters import gpg

COLONS = """tru::1:1795726912:1858798909:3:1:5
pub:u:3072:1:C8949BF9ADDC5810:1795726909:1858798909::u:::scSC::::::23::0:
fpr:::::::::487B6DCB7180B2AB9F5E59D5C8949BF9ADDC5810:
uid:u::::1795726909::B678::Test RM <rm@x.invalid>::::::::::0:
pub:e:3072:1:6B6DCC6DF34D13A6:1577836800:1609372800::u:::sc::::::23::0:
fpr:::::::::C667D5C0DAD128F8EECD1D436B6DCC6DF34D13A6:
uid:e::::1577836800::8B08::Old RM <old@x.invalid>::::::::::0:
sub:u:3072:1:1111111111111111:1577836800:::::s::::::23:
fpr:::::::::AAAA111111111111111111111111111111111111:
"""


def test_parse_keys_reads_primary_keys() -> None:
    current, old = gpg.parse_keys(COLONS)
    assert current.fingerprint == "487B6DCB7180B2AB9F5E59D5C8949BF9ADDC5810"
    assert current.user_ids == ("Test RM <rm@x.invalid>",)
    assert current.can_sign and not current.is_expired(now=1795726910) and not current.is_revoked
    assert current.is_expired(now=1858798909)
    assert old.fingerprint == "C667D5C0DAD128F8EECD1D436B6DCC6DF34D13A6"  # not the subkey's
    assert old.is_expired() and not old.can_sign
