Console.WriteLine("Benchmarks arrive with the kernels branch.");
