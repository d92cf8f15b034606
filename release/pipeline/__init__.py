# SPDX-License-Identifier: Apache-2.0
"""The executors: a release plan, a train's wave, a publish join, image jobs; and where they run
(connect)."""
