using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// <c>optimizers</c>: one thread's CPU time per element of each optimizer's update pass (the kernels the optimizers call for a
/// weight, without the split over threads), over a weight that stays in L2 (16K values) and one that does not (1M values,
/// 16 MiB with its gradient and state). Calls only kernels whose signatures are unchanged since the eighth session, so the
/// program runs against an older build's Neurite.dll copied over its own, for an alternating A/B.
/// </summary>
internal static class OptimizerWorkload
{
    public static void Run(string[] args)
    {
        Console.WriteLine("Optimizer update passes, one thread, thread CPU ns per element: best (median)");
        foreach (int n in new[] { 16_384, 1 << 20 })
        {
            var random = new System.Random(3);
            float[] Fill(float scale, bool positive = false)
            {
                var a = new float[n];
                for (int i = 0; i < n; i++) a[i] = (float)((positive ? random.NextDouble() : random.NextDouble() * 2 - 1) * scale);
                return a;
            }
            float[] w = Fill(1f), g = Fill(0.01f), s1 = Fill(0.01f), s2 = Fill(1e-4f, positive: true), s3 = Fill(1e-4f, positive: true);
            // Small steps keep the values in range over the thousands of calls.
            const float lr = 1e-6f;
            var passes = new (string Name, Action Body)[]
            {
                ("SGD", () => OptimizerKernels.Sgd(w, g, default, lr, 0f, false)),
                ("SGD momentum", () => OptimizerKernels.Sgd(w, g, s1, lr, 0.9f, false)),
                ("SGD Nesterov", () => OptimizerKernels.Sgd(w, g, s1, lr, 0.9f, true)),
                ("RMSprop", () => OptimizerKernels.RmsProp(w, g, s2, s1, s3, lr, 0.9f, 1e-7f, 0f, false)),
                ("RMSprop centered, momentum", () => OptimizerKernels.RmsProp(w, g, s2, s1, s3, lr, 0.9f, 1e-7f, 0.5f, true)),
                ("Adagrad", () => OptimizerKernels.Adagrad(w, g, s2, lr, 1e-7f)),
                ("Adam", () => ElementwiseKernels.AdamUpdate(w, g, s1, s2, lr, 0.1f, 1e-3f, 1e-7f)),
                ("AMSGrad", () => OptimizerKernels.Amsgrad(w, g, s1, s2, s3, lr, 0.1f, 1e-3f, 1e-7f)),
            };
            int calls = n > 100_000 ? 30 : 600;
            Console.WriteLine($"  {n} values:");
            foreach (var (name, body) in passes)
            {
                var (median, best) = Harness.CpuTime(body, calls, warmCalls: calls / 10);
                Console.WriteLine($"    {name,-28} {best * 1e9 / n,7:F3} ({median * 1e9 / n:F3})");
            }
        }
    }
}
