using Neurite.Benchmarks;

// Each workload is one file with a static Run(string[] args); add yours to this table.
var workloads = new SortedDictionary<string, (string Description, Action<string[]> Run)>(StringComparer.OrdinalIgnoreCase)
{
    ["peak"] = ("FP32 FMA peak of one core, Vector512 and Vector256, in GFLOP/s; --trace [s]: its spread over slices of 1, 16 and 150 ms", PeakWorkload.Run),
    ["gemm"] = ("SGEMM GFLOP/s and % of measured peak: 500x100x400 and the LSTM shapes, 1 and 2 threads", GemmWorkload.Run),
    ["w1"] = ("W1 iris training, ms per epoch vs TorchSharp, bytes per step", TutorialWorkloads.RunW1),
    ["w2"] = ("W2 breast-cancer training, ms per epoch vs TorchSharp, bytes per step", TutorialWorkloads.RunW2),
    ["w3"] = ("W3 stateful stacked LSTM training, ms per epoch on 1 and 2 threads, GFLOP/s", W3Workload.Run),
    ["forecast"] = ("the default forecaster on the forecast-dev (or --set holdout) series: test MAE beside persistence, R ETS and ARIMA; --detail, --seed N, or one series by name", ForecastWorkload.Run),
    ["sweep"] = ("Size sweep (LSTM, GRU, SimpleRNN, MLP): ms per step, GFLOP/s, % of same-run peak, B/step, 2-thread gain; --cold: first-100-steps over steady", SweepWorkload.Run),
    ["cuda"] = ("The CUDA backend beside the CPU: the large LSTM step (U=1024, B=512, T=50, D=32) and a W3 epoch; needs a GPU", CudaWorkload.Run),
    ["mlpparts"] = ("The sweep's MLP step in pieces (products, bias and activation passes, Adam, the step), 1 and 2 threads: mlpparts U B", MlpPartsWorkload.Run),
    ["mlpsplit"] = ("The sweep's MLP step on one thread against split over two, alternating blocks, clock, counting only steps the worker joined: mlpsplit U,B [U,B ...] [--rounds R]", MlpSplitWorkload.Run),
    ["optimizers"] = ("Each optimizer's update pass, one thread: thread CPU ns per element over 16K and 1M values", OptimizerWorkload.Run),

    ["fuseab"] = ("The sweep's MLP step with Adam fused into the kernel-gradient products and without, alternating in one process, thread CPU time: fuseab U B [rounds] [calls] [--block floats]", FuseAbWorkload.Run),
    ["swapab"] = ("Short products A·Bᵀ swapped into (B·Aᵀ)ᵀ and made directly, alternating, thread CPU time: swapab U B [rounds] [calls] (the MLP step), or swapab --shapes [rounds]; --inplace: a small B read in place against its panels copied", SwapAbWorkload.Run),
    ["recab"] = ("A recurrent sweep point's step with the weight-gradient pass's in-kernel fetches (next panel, later C tile) and without, alternating, thread CPU time: recab KIND:U,B,T,D|w3: [rounds] [calls] [--small-fusion: small passes fusing or not; --onekblock: the products' next-panel fetches of a B of one K block instead; --nextstep: the next step's fetches into a quarter of the L2 instead]; recab --parts [lstm:U,B,T,D] [rounds]: an LSTM step's products (B rows) and packs one by one", RecurrentAbWorkload.Run),
    ["switchab"] = ("A sweep point's step with one of the kernels' switches (copypf, blockfit, swap, smallb) off and on, alternating in one process, thread CPU time: switchab SWITCH KIND:U,B[,T,D] [rounds] [calls]", SwitchAbWorkload.Run),
    ["init"] = ("Orthogonal draw of a recurrent kernel (U, 4U): first call and warm median, thread CPU time", InitWorkload.Run),
    ["fastmath"] = ("FastMath Exp/Tanh/Sigmoid, AddBias and SumRows throughput", FastMathWorkload.Run),
    ["fuzz"] = ("Mutated .keras, .h5 and CSV files: outcome counts; each must be success or the documented exception", FuzzWorkload.Run),
};

if (args.Length == 0 || !workloads.TryGetValue(args[0], out var chosen))
{
    Console.WriteLine("usage: dotnet run -c Release --project bench/Neurite.Benchmarks -- <workload> [options]");
    Console.WriteLine("workloads:");
    foreach (var (name, (description, _)) in workloads) Console.WriteLine($"  {name,-10} {description}");
    if (args.Length > 0) Console.WriteLine($"Unknown workload '{args[0]}'.");
    return args.Length == 0 ? 0 : 2;
}

try
{
    chosen.Run(args[1..]);
}
catch (ArgumentException e)
{
    // A mistyped option: its message names it and the form it takes.
    Console.Error.WriteLine(e.Message);
    return 2;
}
return 0;
