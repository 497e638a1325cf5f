using System.Reflection;
using Neurite.Backends.Cpu;
using Neurite.Backends.Cpu.Kernels;
using Neurite.Tests.Shared;

namespace Neurite.Tests.Kernels;

/// <summary>
/// The kernel prewarm (<see cref="Sequential.PrewarmAsync"/>): after it, a fresh process's first training step compiles
/// no CPU kernel on the training thread; and its lists name kernels that exist.
/// </summary>
public class KernelPrewarmTests
{
    /// <summary>
    /// A first training step in a fresh process (as the CLI runs: loop methods compiled optimised on their first call),
    /// after the prewarm finished, compiles none of the kernels optimised on the training thread: the kernels with loops
    /// or vector code, which the tool's ReadyToRun image cannot hold. Their plumbing (tier-0 code without loops) is
    /// precompiled in the tool and left out here.
    /// </summary>
    [Theory]
    [InlineData("mlp", 1)]
    [InlineData("mlp", 2)]
    [InlineData("classifier", 1)]
    [InlineData("wide", 1)]
    [InlineData("swapped", 1)]
    [InlineData("swapped", 2)]
    [InlineData(PrewarmProbe.StandIn, 1)]
    [InlineData(PrewarmProbe.StandIn, 2)]
    [InlineData("lstm", 1)]
    [InlineData("lstm", 2)]
    [InlineData("lstm-long", 1)]
    [InlineData("lstm-long", 2)]
    [InlineData("gru", 1)]
    [InlineData("gru-long", 1)]
    [InlineData("gru-long", 2)]
    [InlineData("grubefore-long", 1)]
    [InlineData("grubefore-long", 2)]
    [InlineData("rnn", 1)]
    public void AfterThePrewarmTheFirstStepCompilesNoKernelOnTheTrainingThread(string model, int threads)
    {
        if (KernelSelector.Best == KernelPath.Scalar)
        {
            // Without a vector path there is nothing to compile ahead: the prewarm is done at once.
            var (scalarModel, x, _) = PrewarmProbe.Build(model);
            Assert.True(scalarModel.PrewarmAsync(x.Shape[0]).IsCompletedSuccessfully);
            return;
        }
        var (code, output) = RunProbe(model, threads);
        Assert.True(code == 0, $"The probe process failed (exit code {code}):\n{output}");
        Assert.Contains("COMPILED-ON-THREAD", output);
        var missing = output.Split('\n').Where(l => l.StartsWith("KERNEL ", StringComparison.Ordinal)).Select(l => l[7..].Trim()).ToList();
        Assert.True(missing.Count == 0,
            $"The first training step of the '{model}' model ({threads} thread(s)) compiled these CPU kernels on the training thread although the prewarm had finished:\n  " +
            string.Join("\n  ", missing) +
            "\nAdd each to the kernel prewarm's list for the op that calls it: src/Neurite/Backends/Cpu/Kernels/KernelPrewarm.cs " +
            "(a product's drivers and micro-kernels: Gemm.Prewarm.cs; which ops a layer runs: src/Neurite/Backends/Cpu/ModelPrewarm.cs).");
    }

    /// <summary>Every method the lists name exists, on both vector paths, for every layer kind, loss and optimizer.</summary>
    [Theory]
    [InlineData(KernelPath.Vector256, 1)]
    [InlineData(KernelPath.Vector256, 2)]
    [InlineData(KernelPath.Vector512, 1)]
    [InlineData(KernelPath.Vector512, 2)]
    public void EveryListedKernelExists(KernelPath path, int threads)
    {
        foreach (string kind in new[] { "mlp", "classifier", "wide", "swapped", "lstm", "gru", "rnn" })
        {
            var (model, x, _) = PrewarmProbe.Build(kind);
            // Throws, naming the method, for an entry that names no method.
            var prewarm = ModelPrewarm.For(model, x.Shape[0], path, threads);
            Assert.NotEmpty(prewarm.Methods);
            Assert.All(prewarm.Methods, m => Assert.False(m.ContainsGenericParameters, $"{m.DeclaringType}.{m.Name} is listed uninstantiated."));
            // The CoreLib instantiations the first step compiles, found on this runtime.
            Assert.Contains(prewarm.Methods, m => m.DeclaringType == typeof(GC) && m.Name == nameof(GC.AllocateUninitializedArray));
            Assert.Contains(prewarm.Methods, m => m.DeclaringType == typeof(MemoryExtensions) && m.Name == nameof(MemoryExtensions.AsSpan));
        }
        var everything = new KernelPrewarm(path);
        foreach (Backends.ActivationKind kind in Enum.GetValues<Backends.ActivationKind>()) everything.AddActivation(kind);
        foreach (Backends.LossKind kind in Enum.GetValues<Backends.LossKind>()) everything.AddLoss(kind);
        foreach (var optimizer in new Optimizers.Optimizer[] { new Optimizers.Adam(), new Optimizers.Adam(amsgrad: true), new Optimizers.Sgd(), new Optimizers.RmsProp(), new Optimizers.Adagrad() })
            everything.AddOptimizer(optimizer);
        foreach (var metric in new Metrics.Metric[] { new Metrics.CategoricalAccuracy(), new Metrics.SparseCategoricalAccuracy(), new Metrics.BinaryAccuracy(),
            new Metrics.MeanAbsoluteErrorMetric(), new Metrics.MeanSquaredErrorMetric(), new Metrics.RootMeanSquaredError(), new Metrics.Precision(), new Metrics.Auc() })
            everything.AddMetric(metric);
        Assert.Contains(everything.Methods, m => m.DeclaringType == typeof(MetricKernels) && m.Name == nameof(MetricKernels.AccumulateConfusion));
        Assert.Equal(5, everything.Methods.Count(m => m.DeclaringType == typeof(MetricKernels) && m.Name == "Rows"));
        Assert.NotEmpty(everything.Methods);
    }

    /// <summary>The micro-kernel names the product lists use (V256_Nn5, ...) are the methods in GemmMicroKernels' tables, row count for row count.</summary>
    [Fact]
    public unsafe void MicroKernelNamesMatchTheTables()
    {
        var tables = new (string Prefix, string Table, nint[] Entries)[]
        {
            ("V256", "Nn", GemmMicroKernels.V256Nn), ("V256", "Tn", GemmMicroKernels.V256Tn),
            ("V512", "Nn", GemmMicroKernels.V512Nn), ("V512", "Tn", GemmMicroKernels.V512Tn),
            ("V256", "NarrowNn", GemmMicroKernels.V256NarrowNn), ("V256", "NarrowTn", GemmMicroKernels.V256NarrowTn),
            ("V512", "NarrowNn", GemmMicroKernels.V512NarrowNn), ("V512", "NarrowTn", GemmMicroKernels.V512NarrowTn),
            ("V256", "TnPf", GemmMicroKernels.V256TnPf), ("V512", "TnPf", GemmMicroKernels.V512TnPf),
            ("V256", "NnPf", GemmMicroKernels.V256NnPf), ("V512", "NnPf", GemmMicroKernels.V512NnPf),
            ("V256", "TnPfC", GemmMicroKernels.V256TnPfC), ("V512", "TnPfC", GemmMicroKernels.V512TnPfC),
        };
        foreach (var (prefix, table, entries) in tables)
            for (int rows = 1; rows <= entries.Length; rows++)
            {
                string name = $"{prefix}_{table}{rows}";
                var method = typeof(GemmMicroKernels).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static);
                Assert.True(method is not null, $"GemmMicroKernels has no {name}, which Gemm.Prewarm.cs names for {rows}-row tiles of the {prefix} {table} table.");
                Assert.True(method.MethodHandle.GetFunctionPointer() == entries[rows - 1],
                    $"Entry {rows - 1} of GemmMicroKernels.{prefix}{table} is not {name}: update the names in Gemm.Prewarm.cs.");
            }
    }

    /// <summary>The public API: a model that is not built has no shapes to compile for.</summary>
    [Fact]
    public void PrewarmNeedsABuiltModel()
    {
        var model = new Sequential(new Layers.Dense(3));
        var error = Assert.Throws<NeuriteException>(() => { _ = model.PrewarmAsync(8); });
        Assert.Contains("not built", error.Message);
    }

    private static (int Code, string Output) RunProbe(string model, int threads) =>
        ProbeProcess.Run("Neurite.Tests.dll", PrewarmProbe.Command, model, threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
