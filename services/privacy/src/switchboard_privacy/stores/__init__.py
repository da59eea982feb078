"""One eraser/exporter per store. Each step is idempotent: running it twice erases nothing twice and fails
nothing that succeeded, so a crashed or failed request simply runs its unfinished steps again."""
