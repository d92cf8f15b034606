# SPDX-License-Identifier: Apache-2.0
"""Which image: the one identity of every image a release or a build makes. Pure.

An image is its Python flavour (`3.11`), its variant (`slim`; "" is the default image) and, when
it is one of several platforms' images, its platform (`linux/arm64`; "" for a single-platform
image, which its flavour and variant name alone). Its key in the release record and its name in
progress and messages come from here; its tags are spelled by `release/plan/tags.py`
(`image_tag`), the one tag spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, order=True)
class ImageId:
    flavour: str
    variant: str = ""
    platform: str = ""  # only for one of several platforms' images

    @property
    def key(self) -> str:
        """Its key in the release record: `3.11`, `slim-3.11`, `3.11 linux/arm64`."""
        name = f"{self.variant}-{self.flavour}" if self.variant else self.flavour
        return f"{name} {self.platform}" if self.platform else name

    @property
    def name(self) -> str:
        """How progress and messages name it: `python3.11`, `slim-python3.11`, `python3.11 linux/arm64`."""
        name = f"{self.variant}-python{self.flavour}" if self.variant else f"python{self.flavour}"
        return f"{name} {self.platform}" if self.platform else name

    @property
    def of_index(self) -> ImageId:
        """The image its platform's image is part of: what the index under its version tag stands for."""
        return replace(self, platform="")

    def on(self, platform: str) -> ImageId:
        """This image as one of several platforms' images."""
        return replace(self, platform=platform)

    def __str__(self) -> str:
        return self.name
