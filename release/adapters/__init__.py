# SPDX-License-Identifier: Apache-2.0
"""One thin module per outside system. Nothing else in the package talks to the outside world."""
