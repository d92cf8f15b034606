"""The executors: a release plan, a publish join, image jobs; and where they run (connect)."""
