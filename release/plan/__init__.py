"""The release as data, pure: tag spelling and planning, image inputs, the ReleasePlan."""
