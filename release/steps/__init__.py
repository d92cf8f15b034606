# SPDX-License-Identifier: Apache-2.0
"""The steps of a release: each runs against adapters and returns what it produced."""
