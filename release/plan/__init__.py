# SPDX-License-Identifier: Apache-2.0
"""The release as data, pure: tag spelling and planning, image inputs, the ReleasePlan."""
