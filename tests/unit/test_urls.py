# SPDX-License-Identifier: Apache-2.0
"""URLs from configuration and services: hosts as urllib reads them, credentials never shown. Pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.urls import (
    has_credentials,
    hide_credentials,
    host_of,
    is_loopback_host,
    plain_allowed,
    registry_host,
)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["", "localhost.example.org", "127.example.org", "10.0.0.1", "::2",
                                  "0.0.0.0"])
def test_hosts_that_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://localhost:1@registry.example.com/v2/", "registry.example.com"),
        ("http://127.0.0.1:5000/", "127.0.0.1"),
        ("https://[::1]:8080/x", "::1"),
        ("http://u:p@h.example:1/", "h.example"),
        ("http://h.example:notaport/", ""),
        ("not a url", ""),
    ],
)
def test_the_host_is_the_one_urllib_connects_to(url: str, host: str) -> None:
    assert host_of(url) == host


def test_a_registry_written_as_user_at_host_is_that_host() -> None:
    assert registry_host("localhost:1@registry.example.com") == "registry.example.com"
    assert registry_host("127.0.0.1:5000") == "127.0.0.1"
    assert registry_host("[::1]:5000") == "::1"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:token@pypi.example/simple/", "https://<hidden>@pypi.example/simple/"),
        ("https://token@pypi.example:8443/x?y=1#z", "https://<hidden>@pypi.example:8443/x?y=1#z"),
        ("https://a@b:c@host/", "https://<hidden>@host/"),
        ("https://pypi.example/simple/", "https://pypi.example/simple/"),
        ("http://[::1:8080/x@y", "http://[::1:8080/x@y"),
        ("https://[x:secret@host/", "https://<hidden>@host/"),
    ],
)
def test_credentials_are_hidden(url: str, shown: str) -> None:
    assert hide_credentials(url) == shown


@given(user=st.text(min_size=1).filter(lambda t: not set(t) & set("@/?#")),
       secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=8))
def test_a_secret_in_a_url_never_survives_hiding(user: str, secret: str) -> None:
    url = f"https://{user}:{secret}@index.example/simple/"
    assert has_credentials(url)
    assert secret not in hide_credentials(url).replace("index.example/simple/", "")


def test_plain_urls_only_for_loopback_or_listed_hosts() -> None:
    assert plain_allowed("https://anywhere.example/")
    assert plain_allowed("file:///srv/svn")
    assert plain_allowed("http://127.0.0.1:3141/")
    assert not plain_allowed("http://localhost:1@registry.example.com/")
    assert not plain_allowed("svn://svn.example.org/repo")
    assert plain_allowed("svn://svn.example.org/repo", ["SVN.example.org"])
