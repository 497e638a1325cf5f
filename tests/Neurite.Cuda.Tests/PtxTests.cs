using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Neurite.Cuda.Kernels;

namespace Neurite.Cuda.Tests;

/// <summary>Every kernel compiles to PTX for the H200's sm_90 with ILGPU's PTX backend, which needs no GPU.</summary>
public class PtxTests
{
    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var method in AllKernels()) data.Add(method.DeclaringType!.Name + "." + method.Name);
        return data;
    }

    [Fact]
    public void EveryKernelClassIsCovered()
    {
        // A kernel added to a new class must be added to AllKernels too.
        var classes = typeof(DeviceMath).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(DeviceMath).Namespace && t.GetMethods(BindingFlags.Public | BindingFlags.Static).Any(IsKernel))
            .Select(t => t.Name).OrderBy(n => n);
        Assert.Equal(s_kernelClasses.Select(t => t.Name).OrderBy(n => n), classes);
        Assert.True(AllKernels().Count() >= 23, $"expected all of the kernels, found {AllKernels().Count()}");
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToPtxForSm90(string kernel)
    {
        var method = AllKernels().Single(m => m.DeclaringType!.Name + "." + m.Name == kernel);
        using var context = Context.Create(builder => builder.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        string ptx = compiled.PTXAssembly;
        // ILGPU 1.5.3 writes the lowest target its generated code needs (sm_80 here) even for an SM_90
        // backend; the driver JIT-compiles PTX of any older target for the device, so this loads on an H200.
        var target = System.Text.RegularExpressions.Regex.Match(ptx, @"\.target sm_(\d+)");
        Assert.True(target.Success, "no .target line in the PTX");
        Assert.InRange(int.Parse(target.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 50, 90);
        Assert.Equal(CudaArchitecture.SM_90, backend.Architecture);
        Assert.Contains(".version 8.0", ptx);
        Assert.Contains(".entry Kernel_" + method.Name, ptx);
    }

    private static readonly Type[] s_kernelClasses =
        [typeof(ElementwiseKernels), typeof(LossKernels), typeof(OptimizerKernels), typeof(RecurrentKernels)];

    private static IEnumerable<MethodInfo> AllKernels() =>
        s_kernelClasses.SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static)).Where(IsKernel);

    private static bool IsKernel(MethodInfo method)
    {
        var parameters = method.GetParameters();
        return parameters.Length > 0 && parameters[0].ParameterType is var t && (t == typeof(Index1D) || t == typeof(Index2D));
    }
}
