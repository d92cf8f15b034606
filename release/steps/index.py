# SPDX-License-Identifier: Apache-2.0
"""Put each flavour's image index over its platforms' images, from what the registry holds.

The same step joins a one-machine run and image jobs run elsewhere (one per flavour and
platform): every platform's image is read back from the registry under its helper tag, checked
(its config states that platform; the images of one index carry the same version and wheels;
an image this run pushed is the one the registry has), and the index is put by its own digest.
The version tag is then set to it by the one tag mover. A missing platform is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from release.adapters.clients import Registry
from release.adapters.registry import ImageIndex, PlatformImage
from release.errors import RefusedError, VerificationError
from release.plan.images import OCI, WHEEL_SHA256_LABEL
from release.plan.release import PlannedIndex
from release.progress import Progress, to_log

AGREE = (f"{OCI}.version", f"{OCI}.revision", WHEEL_SHA256_LABEL)  # labels every platform shares


def missing_platforms(planned: Sequence[PlannedIndex], found: Mapping[str, PlatformImage | None]
                      ) -> list[str]:
    """Pure: `pythonP linux/arm64 (tag)` for each planned image the registry lacks."""
    return [f"{index.image.on(platform).name} ({tag})" for index in planned for platform, tag in index.images
            if found.get(tag) is None]


def label_disagreements(labels: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Pure: the shared labels (version, revision, wheels) that differ between platforms' images."""
    problems = []
    for label in AGREE:
        values = {platform: found.get(label, "") for platform, found in labels.items()}
        if len(set(values.values())) > 1:
            problems.append(f"{label} differs: " + ", ".join(f"{p} {v or '-'}" for p, v in values.items()))
    return problems


def put_indexes(
    registry: Registry, image: str, planned: Sequence[PlannedIndex], *,
    pushed: Mapping[str, str] | None = None, hint: str = "", progress: Progress = to_log,
) -> dict[str, ImageIndex]:
    """One index per planned flavour (flavour -> the index put). `pushed` maps the helper tags this
    run pushed to their digests; `hint` says how to push a missing platform."""
    found = {tag: registry.platform_image(image, tag) for index in planned for _, tag in index.images}
    missing = missing_platforms(planned, found)
    if missing:
        raise RefusedError(f"{registry.registry}/{image}: no image for " + "; ".join(missing)
                           + f"; nothing was tagged{': ' + hint if hint else ''}")
    done = {}
    for index in planned:
        images = []
        labels = {}
        for platform, tag in index.images:
            entry = found[tag]
            assert entry is not None
            if entry.platform != platform:
                raise VerificationError(f"{registry.registry}/{image}:{tag} is a {entry.platform} image, "
                                        f"not {platform}; refusing to list it as {platform}")
            if pushed and tag in pushed and pushed[tag] != entry.digest:
                raise VerificationError(f"{registry.registry}/{image}:{tag} is {entry.digest}, not the "
                                        f"{pushed[tag]} this run pushed")
            labels[platform] = registry.image_labels(image, entry.digest) or {}
            images.append(entry)
        problems = label_disagreements(labels)
        if problems:
            raise RefusedError(f"{image}:{index.tag}: its platforms' images are not of one build: "
                               + "; ".join(problems))
        put = registry.put_index(image, images)
        listed = ", ".join(f"{i.platform} {i.digest[:19]}" for i in put.images)
        progress(f"{image}:{index.tag}: index {put.digest[:19]} over {listed}")
        done[index.image.flavour] = put
    return done
