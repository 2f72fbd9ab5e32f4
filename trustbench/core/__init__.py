"""The harness: registry, cells, store, runner, claims, leaderboards and command line."""
