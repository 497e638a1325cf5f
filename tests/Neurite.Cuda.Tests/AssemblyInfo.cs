// Backend.Use is process-wide and the CPU references (optimizers, layers) call through it: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
