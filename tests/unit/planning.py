# SPDX-License-Identifier: Apache-2.0
"""One image planned as a release or a master build plans it, completed from a given source: for
the unit tests of the image plan, the smoke test and provenance."""

from __future__ import annotations

from pathlib import Path

from release.config import parse_config
from release.plan.images import ImageSource, complete_image
from release.plan.release import PlannedImage, plan_images
from release.plan.tags import BuildKind


def planned_image(source: ImageSource, *, flavour: str = "3.11", registry: str = "127.0.0.1:5000",
                  image: str = "sample/app", base_image: str = "base:3.11",
                  base_digest: str = "sha256:" + "1" * 64, platform: str = "linux/amd64",
                  several: tuple[str, ...] = (), kind: BuildKind = BuildKind.RELEASE, builder: str = ""
                  ) -> PlannedImage:
    """`source`'s image of `flavour` (in its variant) for `platform`, of a release of `source.version`
    (or a master build), one of `several` platforms when given, completed FROM `base_image` for
    `builder` (`buildkit`, or "" for the classic one)."""
    variants = {source.variant: {"extras": list(source.extras)}} if source.variant else {}
    config = parse_config(Path("/src"), {"name": source.name, "image": image, "python": [flavour],
                                         "platforms": list(several or (platform,)), "variants": variants})
    images, _ = plan_images(config, source.version, f"{registry}/{image}", [flavour], [platform],
                            registry=registry, kind=kind)
    (planned,) = [i for i in images if i.image.variant == source.variant]
    return complete_image(planned, source, base_image=base_image, base_digest=base_digest, builder=builder)
