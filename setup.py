# SPDX-License-Identifier: Apache-2.0
from pathlib import Path

from setuptools import find_packages, setup


def read_version() -> str:
    for line in Path(__file__).with_name("release").joinpath("__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise RuntimeError("release/__init__.py declares no __version__")


setup(
    name="release-pipeline",
    version=read_version(),
    description="Ship a Python application's packages and production images together",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license_expression="Apache-2.0",  # SPDX; setuptools >= 77 (pyproject.toml)
    url="https://example.invalid/release-pipeline",
    author="Release Pipeline developers",
    author_email="dev@release-pipeline.invalid",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Software Development :: Build Tools",
    ],
    python_requires=">=3.9",
    packages=find_packages(include=["release", "release.*"]),
    # the service images' entrypoints; the production image's Dockerfile and its shell helper
    package_data={"release.sandbox": ["images/*.sh"], "release.image": ["Dockerfile", "venv-pip"]},
    install_requires=[
        "packaging>=23",
        "invoke>=2.2",
        "rich>=13",
        "docker>=7",
        "twine>=5",
        "build>=1",
        "GitPython>=3.1",
        "requests>=2.31",
        "PyYAML>=6",
        "cyclonedx-python-lib[json-validation]>=11.12,<12",  # the SBOMs: model, JSON, schema check
        "tomli>=2; python_version<'3.11'",
    ],
    entry_points={"console_scripts": ["release-pipeline=release.cli.main:main"]},
)
