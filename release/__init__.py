# SPDX-License-Identifier: Apache-2.0
"""Release pipeline: ship a Python project's packages and production images together."""

__version__ = "0.1.0"

__all__ = ["__version__"]
