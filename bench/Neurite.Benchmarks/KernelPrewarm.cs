using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Neurite.Backends.Cpu.Kernels;

namespace Neurite.Benchmarks;

/// <summary>
/// The cold-start experiment beside the CLI's JIT profile: a background thread that compiles, with
/// <see cref="RuntimeHelpers.PrepareMethod(RuntimeMethodHandle, RuntimeTypeHandle[])"/>, the kernels a point's first
/// step compiles (read off <c>DOTNET_JitDisasmSummary</c> for the Vector256 path), in the order the step first calls
/// them; it needs no profile from an earlier process. Measured, not part of the library (bench/results/cold-start.md).
/// </summary>
internal static class KernelPrewarm
{
    private const string K = "Neurite.Backends.Cpu.Kernels.", R = K + "Recurrent.";

    // Type:Method, then the generic arguments ("V" the selected path's vector type, "Ops" its operations) where the method is generic.
    private static readonly string[] Dense =
    [
        K + "Gemm+Job:ComputeBlocked", K + "Gemm+Job:ComputeKBlock", K + "GemmMicroKernels:{P}_Nn6", K + "GemmMicroKernels:{P}_Nn5",
        K + "FastMath:AddBias", K + "FastMath:AddBias<V,Ops>", K + "ElementwiseKernels:Relu", K + "GemmMicroKernels:{P}_NarrowNn8",
        K + "Gemm:CopyRagged", K + "LossKernels:Rows<" + K + "LossKernels+SquaredErrorRow>", K + "GemmMicroKernels:{P}_NarrowTn8",
        K + "FastMath:SumRows", K + "FastMath:SumRows<V,Ops>", K + "Gemm:PackPadded", K + "ElementwiseKernels:ReluBackward",
        K + "Gemm+Job:PackTransposedA", K + "GemmMicroKernels:{P}_Tn6", K + "GemmMicroKernels:{P}_Tn5", K + "Gemm:PackPanel",
        K + "ElementwiseKernels:AdamUpdate",
    ];

    private static readonly string[] Lstm =
    [
        K + "Gemm:PackPanel", K + "TransposedPacking:Repack", K + "TransposedPacking:TransposePanel", R + "SequenceLayout:ProjectInputs",
        K + "Gemm+Job:ComputeBlocked", K + "Gemm+Job:ComputeKBlock", K + "GemmMicroKernels:{P}_Nn6", K + "GemmMicroKernels:{P}_Nn5",
        R + "ColumnLoop:Rows<" + R + "LstmSequence+KerasGateActivation," + R + "LstmSequence+ActivatedGatesCell,V,Ops>",
        K + "GemmMicroKernels:{P}_NarrowNn8", K + "Gemm:CopyRagged", K + "FastMath:AddBias", K + "FastMath:AddBias<V,Ops>",
        K + "LossKernels:Rows<" + K + "LossKernels+SquaredErrorRow>", K + "GemmMicroKernels:{P}_NarrowTn8", K + "FastMath:SumRows",
        K + "FastMath:SumRows<V,Ops>", K + "Gemm:PackPadded", R + "SequenceLayout:Add",
        R + "ColumnLoop:Rows<" + R + "LstmSequence+BackwardCell," + R + "NoColumns,V,Ops>", R + "SequenceLayout:AddInputWeightGradientBlock<V,Ops>",
        K + "Gemm+Job:PackTransposedA", K + "GemmMicroKernels:{P}_Tn6", K + "GemmMicroKernels:{P}_Tn5", K + "ElementwiseKernels:AdamUpdate",
    ];

    /// <summary>Starts compiling <paramref name="kind"/>'s first-step kernels on a background thread.</summary>
    public static Thread Start(SweepWorkload.Kind kind)
    {
        var methods = kind switch { SweepWorkload.Kind.Mlp => Dense, SweepWorkload.Kind.Lstm => Lstm, _ => throw new NotSupportedException($"No kernel list for {kind}.") };
        var thread = new Thread(() => { foreach (string method in methods) Prepare(method); }) { IsBackground = true, Name = "kernel prewarm" };
        thread.Start();
        return thread;
    }

    private static void Prepare(string spec)
    {
        bool wide = KernelSelector.Best == KernelPath.Vector512;
        var (vector, ops) = wide ? (typeof(Vector512<float>), typeof(Vector512Ops)) : (typeof(Vector256<float>), typeof(Vector256Ops));
        spec = spec.Replace("{P}", wide ? "V512" : "V256", StringComparison.Ordinal);
        int colon = spec.IndexOf(':', StringComparison.Ordinal), angle = spec.IndexOf('<', StringComparison.Ordinal);
        var type = typeof(Gemm).Assembly.GetType(spec[..colon], throwOnError: true)!;
        string name = angle < 0 ? spec[(colon + 1)..] : spec[(colon + 1)..angle];
        var arguments = angle < 0 ? [] : spec[(angle + 1)..^1].Split(',')
            .Select(a => a switch { "V" => vector, "Ops" => ops, _ => typeof(Gemm).Assembly.GetType(a, throwOnError: true)! }).ToArray();
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            if (method.Name != name || method.IsGenericMethodDefinition != (arguments.Length > 0)) continue;
            if (arguments.Length > 0 && method.GetGenericArguments().Length != arguments.Length) continue;
            try
            {
                RuntimeHelpers.PrepareMethod((arguments.Length > 0 ? method.MakeGenericMethod(arguments) : method).MethodHandle);
            }
            catch (ArgumentException)
            {
                // An overload whose constraints these arguments do not meet.
            }
        }
    }
}
