"""The steps of the chain jobs: `data` (generate, ingest) and `analysis` (train, score,
explain). Each takes a `workers.chain.StepContext` and the results of the steps before
it, and returns its own small JSON-safe result."""
