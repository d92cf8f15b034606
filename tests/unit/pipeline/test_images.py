# SPDX-License-Identifier: Apache-2.0
"""`invoke images --push` of a release: what the vote policy lets it push. Reads dist/<V>/ only."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.errors import RefusedError
from release.pipeline.images import pushes_unvoted, release_images
from release.record import PromotionInfo, load_record, release_dir
from release.versions import parse_version
from tests.unit.builders import TARGET, sample_config

TABLE = {"python": ["3.11"]}  # more of the sample's [tool.release]


def test_an_image_job_never_pushes_a_final_of_a_voting_project_that_was_not_promoted(tmp_path: Path) -> None:
    """The release workflow's image jobs push `V-pythonP`: for a final with `vote = "asf"` that would
    publish a rebuild no one voted on, so the job is refused before it builds anything."""
    config = sample_config(tmp_path, TABLE)
    why = pushes_unvoted(config, parse_version("1.10.6"))
    assert "invoke promote --version 1.10.6 --from-rc RC" in why
    with pytest.raises(RefusedError, match="invoke promote"):
        release_images(config, parse_version("1.10.6"), TARGET, flavours=("3.11",), jobs=1, push=True,
                       say=lambda line: None)
    assert not (tmp_path / "dist" / "1.10.6" / "release.json").exists()
    assert pushes_unvoted(config, parse_version("1.10.6rc1")) == ""


def test_a_promoted_final_and_a_final_without_a_vote_may_be_pushed(tmp_path: Path) -> None:
    config = sample_config(tmp_path, TABLE)
    record = load_record(release_dir(tmp_path, "1.10.6"), "1.10.6")
    record.set_promotion(PromotionInfo("1.10.6rc1", "https://svn.test/dev/sample-app/1.10.6rc1",
                                       "https://svn.test/release/sample-app/1.10.6", 7, "c" * 40))
    record.save()
    assert pushes_unvoted(config, parse_version("1.10.6")) == ""
    assert pushes_unvoted(sample_config(tmp_path, {**TABLE, "vote": "none"}), parse_version("1.10.7")) == ""
