# SPDX-License-Identifier: Apache-2.0
"""Where `invoke verify` reads an image's simple-signing signature: the lookaside tree in svn, or, for a
project staging in ATR, the file attached to the image digest. Pure."""

from __future__ import annotations

from release.steps.check_provenance import signature_place

DIGEST = "sha256:" + "ab" * 32


def test_svn_staging_reads_the_signature_from_the_lookaside_tree() -> None:
    place = signature_place("sample/app", DIGEST, lookaside="https://svn.test/dev/sample-app/signatures",
                            name="sample-app-1.10.6rc1-python3.11.sig")
    assert place == f"https://svn.test/dev/sample-app/signatures/sample/app@sha256={'ab' * 32}/signature-1"


def test_atr_staging_reads_the_named_file_of_the_digest_s_attachment() -> None:
    place = signature_place("sample/app", DIGEST, lookaside="", name="sample-app-1.10.6rc1-python3.11.sig")
    assert place == f"sample/app:sha256-{'ab' * 32}.att (sample-app-1.10.6rc1-python3.11.sig)"
