using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Neurite.Backends.Cpu.Kernels.Recurrent;

namespace Neurite.Backends.Cpu.Kernels;

/// <summary>
/// The kernels a model's first training step would otherwise compile on the training thread, compiled ahead on a
/// background thread (<see cref="RuntimeHelpers.PrepareMethod(RuntimeMethodHandle, RuntimeTypeHandle[])"/>): the GEMM
/// drivers and the micro-kernels its products' shapes pick, the bias, activation, loss and optimizer passes, the
/// recurrent cores' loops and gate passes on the selected vector path, and the CoreLib generic instantiations over
/// <see cref="float"/> they use. Issue 14: a short run in a fresh process otherwise spends its first step in the JIT
/// (bench/results/cold-start.md).
/// </summary>
/// <remarks>
/// <para>The lists name the methods that the JIT compiles optimised on their first call (they hold loops or vector
/// code, or are marked <c>AggressiveOptimization</c>): the ones ReadyToRun cannot precompile and that cost the first
/// step its time. A kernel renamed or added without its entry here is caught by <c>KernelPrewarmTests</c>, which
/// trains a first step of each layer kind in a fresh process and names any kernel method still compiled on the
/// training thread; add it to the op's list below (or, for a product, in <c>Gemm.Prewarm.cs</c>).</para>
/// <para>Which micro-kernels a product runs depends on its rows (tiles of up to 6 rows on Vector256, 12 on
/// Vector512, 8 for the one-vector kernels), so the products are listed with their shapes.</para>
/// </remarks>
internal sealed class KernelPrewarm
{
    private const string RecurrentNamespace = "Neurite.Backends.Cpu.Kernels.Recurrent.";

    // Methods already compiled by a prewarm in this process (or being compiled): a second model of the same kinds adds nothing.
    private static readonly ConcurrentDictionary<RuntimeMethodHandle, byte> s_prepared = new();

    // Set on the prewarm thread while it lists: each entry is compiled as soon as it is listed, so the first kernels are
    // ready before the list is complete (the recurrent passes are read from IL, which takes a while).
    [ThreadStatic] private static bool t_compileAsListed;

    private readonly List<MethodBase> _methods = [];
    private readonly HashSet<MethodBase> _listed = [];
    private readonly List<Type> _types = [];
    private readonly List<Action> _calls = [];

    public KernelPrewarm(KernelPath path)
    {
        Path = path;
        (Vector, Ops) = path == KernelPath.Vector512 ? (typeof(Vector512<float>), typeof(Vector512Ops))
            : path == KernelPath.Vector256 ? (typeof(Vector256<float>), typeof(Vector256Ops)) : (typeof(float), typeof(ScalarOps));
    }

    /// <summary>The vector path the listed kernels are instantiated for.</summary>
    public KernelPath Path { get; }

    private Type Vector { get; }

    private Type Ops { get; }

    /// <summary>The methods listed so far, in the order a step first calls them.</summary>
    public IReadOnlyList<MethodBase> Methods => _methods;

    /// <summary>
    /// Lists <paramref name="type"/>'s methods named <paramref name="name"/>: every non-generic overload, and every generic
    /// one instantiated with <paramref name="typeArguments"/>, or with them followed by the path's vector type and its
    /// operations (<c>&lt;TV, TOps&gt;</c>). Throws, naming the method, when none exists.
    /// </summary>
    public void Add(Type type, string name, params Type[] typeArguments)
    {
        bool found = false;
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            if (method.Name != name) continue;
            if (!method.IsGenericMethodDefinition)
            {
                found = true;
                if (typeArguments.Length == 0) Append(method);
                continue;
            }
            int arity = method.GetGenericArguments().Length;
            Type[]? arguments = arity == typeArguments.Length ? typeArguments
                : arity == typeArguments.Length + 2 ? [.. typeArguments, Vector, Ops] : null;
            if (arguments is null) continue;
            found = true;
            try
            {
                Append(method.MakeGenericMethod(arguments));
            }
            catch (ArgumentException)
            {
                // An overload whose constraints these arguments do not meet (e.g. the scalar path's float for a vector kernel).
            }
        }
        if (!found)
            throw new InvalidOperationException(
                $"The kernel prewarm lists {type.FullName}.{name}{(typeArguments.Length > 0 ? $"<{string.Join(", ", typeArguments.Select(t => t.Name))}>" : "")}, " +
                "which does not exist (renamed or removed?): update its entry in src/Neurite/Backends/Cpu/Kernels/KernelPrewarm.cs (products: Gemm.Prewarm.cs).");
    }

    /// <summary>Lists the methods named <paramref name="name"/> of the kernel type <paramref name="typeName"/> (a nested or private type).</summary>
    public void Add(string typeName, string name, params Type[] typeArguments) => Add(KernelType(typeName), name, typeArguments);

    /// <summary>Runs <paramref name="type"/>'s static constructor on the prewarm thread (the JIT compiles it where it first runs).</summary>
    public void Initialize(Type type)
    {
        if (_types.Contains(type)) return;
        _types.Add(type);
        if (t_compileAsListed) RuntimeHelpers.RunClassConstructor(type.TypeHandle);
    }

    /// <summary>Runs <paramref name="call"/> on the prewarm thread: for a kernel that must be called to be compiled for good (harmless inputs).</summary>
    public void Invoke(Action call)
    {
        if (_calls.Contains(call)) return;
        _calls.Add(call);
        if (t_compileAsListed) call();
    }

    /// <summary>The kernel type named <paramref name="fullName"/> (nested types with '+'), or an error naming it.</summary>
    public static Type KernelType(string fullName) =>
        typeof(KernelPrewarm).Assembly.GetType(fullName)
        ?? throw new InvalidOperationException(
            $"The kernel prewarm names the type {fullName}, which does not exist (renamed or removed?): update src/Neurite/Backends/Cpu/Kernels/KernelPrewarm.cs.");

    private void Append(MethodBase method)
    {
        if (!_listed.Add(method)) return;
        _methods.Add(method);
        if (t_compileAsListed) Prepare(method);
    }

    private static void Prepare(MethodBase method)
    {
        if (!s_prepared.TryAdd(method.MethodHandle, 0)) return;
        var owner = method.DeclaringType;
        if (owner is { IsGenericType: true }) RuntimeHelpers.PrepareMethod(method.MethodHandle, [.. owner.GetGenericArguments().Select(t => t.TypeHandle)]);
        else RuntimeHelpers.PrepareMethod(method.MethodHandle);
    }

    /// <summary>What one training step of dense layers runs: products, bias, activation.</summary>
    public void AddDense(int rows, int features, int units, bool useBias, ActivationKind activation, bool needsInputGradient, int threads)
    {
        Gemm.AddProductToPrewarm(this, rows, features, units, transA: false, transB: false, threads);
        if (useBias) AddBias();
        AddActivation(activation);
        Gemm.AddProductToPrewarm(this, features, rows, units, transA: true, transB: false, threads);
        // The model may update the kernel inside that product (Sequential.PlanKernelUpdates).
        Gemm.AddHandedRowsToPrewarm(this, features, rows, units, threads);
        if (useBias) AddSumRows();
        if (needsInputGradient) Gemm.AddProductToPrewarm(this, rows, units, features, transA: false, transB: true, threads);
    }

    public void AddBias() => Add(typeof(FastMath), "AddBias");

    public void AddSumRows() => Add(typeof(FastMath), "SumRows");

    /// <summary>An activation's forward and backward passes (<see cref="ActivationKernels"/>).</summary>
    public void AddActivation(ActivationKind kind)
    {
        string activations = typeof(ActivationKernels).FullName + "+";
        switch (kind)
        {
            case ActivationKind.Linear:
                break;
            case ActivationKind.Relu:
                Add(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Relu));
                Add(typeof(ElementwiseKernels), nameof(ElementwiseKernels.ReluBackward));
                break;
            case ActivationKind.Sigmoid or ActivationKind.Tanh:
                var function = KernelType(typeof(FastMath).FullName + (kind == ActivationKind.Tanh ? "+TanhFunction" : "+SigmoidFunction"));
                Add(typeof(FastMath), "Map", function);
                Add(typeof(ActivationKernels), "MapBackward", KernelType(activations + kind));
                break;
            case ActivationKind.Softmax:
                Add(typeof(ActivationKernels), "Softmax");
                Add(typeof(ActivationKernels), "SoftmaxBackward");
                break;
            default:
                var scalar = KernelType(activations + kind);
                Add(typeof(ActivationKernels), "Map", scalar);
                Add(typeof(ActivationKernels), "MapBackward", scalar);
                break;
        }
    }

    /// <summary>A built-in loss with its gradient (<see cref="LossKernels"/>).</summary>
    public void AddLoss(LossKind kind)
    {
        string row = kind switch
        {
            LossKind.CategoricalCrossentropy => "CategoricalRow",
            LossKind.SparseCategoricalCrossentropy => "SparseCategoricalRow",
            LossKind.BinaryCrossentropy => "BinaryRow",
            LossKind.MeanSquaredError => "SquaredErrorRow",
            LossKind.MeanAbsoluteError => "AbsoluteErrorRow",
            LossKind.Huber => "HuberRow",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "The kernel prewarm has no entry for this loss: add one in KernelPrewarm.AddLoss."),
        };
        Add(typeof(LossKernels), "Rows", KernelType(typeof(LossKernels).FullName + "+" + row));
    }

    /// <summary>A metric's per-batch accumulation (<see cref="MetricKernels"/>): a mean metric's rows, or the confusion counts.</summary>
    public void AddMetric(Metrics.Metric metric)
    {
        if (metric is Metrics.MeanMetric mean)
        {
            string row = mean.BackendKind switch
            {
                MeanMetricKind.CategoricalAccuracy => "CategoricalAccuracyRow",
                MeanMetricKind.SparseCategoricalAccuracy => "SparseCategoricalAccuracyRow",
                MeanMetricKind.BinaryAccuracy => "BinaryAccuracyRow",
                MeanMetricKind.MeanAbsoluteError => "AbsoluteErrorRow",
                MeanMetricKind.MeanSquaredError => "SquaredErrorRow",
                _ => throw new ArgumentOutOfRangeException(nameof(metric), mean.BackendKind, "The kernel prewarm has no entry for this metric: add one in KernelPrewarm.AddMetric."),
            };
            Add(typeof(MetricKernels), "Rows", KernelType(typeof(MetricKernels).FullName + "+" + row));
        }
        else if (metric is Metrics.ConfusionMetric or Metrics.Auc)
        {
            Add(typeof(MetricKernels), nameof(MetricKernels.AccumulateConfusion));
        }
    }

    /// <summary>The check that a training batch's inputs and targets are finite (<c>TrainOnBatch</c> runs it on every batch).</summary>
    public void AddInputCheck() => Add(typeof(ElementwiseKernels), nameof(ElementwiseKernels.IndexOfNonFinite));

    /// <summary>An optimizer's update pass (<see cref="ElementwiseKernels"/>, <see cref="OptimizerKernels"/>), split between threads by <see cref="ParallelUpdates"/>.</summary>
    public void AddOptimizer(Optimizers.Optimizer optimizer)
    {
        Add(typeof(ParallelUpdates), "Check");
        switch (optimizer)
        {
            case Optimizers.Adam { Amsgrad: true }: Add(typeof(OptimizerKernels), nameof(OptimizerKernels.Amsgrad)); break;
            case Optimizers.Adam: Add(typeof(ElementwiseKernels), nameof(ElementwiseKernels.AdamUpdate)); break;
            case Optimizers.Sgd: Add(typeof(OptimizerKernels), nameof(OptimizerKernels.Sgd)); break;
            case Optimizers.RmsProp: Add(typeof(OptimizerKernels), nameof(OptimizerKernels.RmsProp)); break;
            case Optimizers.Adagrad: Add(typeof(OptimizerKernels), nameof(OptimizerKernels.Adagrad)); break;
        }
    }

    /// <summary>
    /// A recurrent layer's whole sequence, forward and backward (<see cref="RecurrentSequence"/> and the cell type
    /// <paramref name="cell"/>): the row loops, the input packing and projection, the cell's gate passes over
    /// <see cref="ColumnLoop"/> (every pass the cell type hands it, read from its code), the weight gradients, and the
    /// products of <paramref name="batch"/> rows (or a half of them on two threads) over <paramref name="steps"/> steps.
    /// </summary>
    public void AddRecurrent(Type cell, int batch, int steps, int features, int units, int gates, int threads, bool resetBefore = false)
    {
        Initialize(typeof(GemmMicroKernels));
        Add(typeof(Gemm), nameof(Gemm.Repack));
        Add(typeof(Gemm), nameof(Gemm.RepackColumns));
        Add(typeof(Gemm), "PackPanel");
        Add(typeof(Gemm), "PackRowBlocks");
        Add(typeof(TransposedPacking), nameof(TransposedPacking.Repack));
        Add(typeof(TransposedPacking), "RepackStrided");
        Add(typeof(TransposedPacking), nameof(TransposedPacking.TransposePanel));
        Add(typeof(TransposedPacking), "CopyPanel");
        Add(typeof(SequenceLayout), nameof(SequenceLayout.PackInputs));
        Add(typeof(SequenceLayout), nameof(SequenceLayout.ProjectInputs));
        int width = gates * units, all = batch * steps;
        Gemm.AddProductToPrewarm(this, all, features, width, transA: false, transB: false, threads);
        Add(typeof(RecurrentSequence), "ForwardRows");
        foreach (string step in CellMethods(cell)) Add(cell, step);
        // A reset-before GRU packs Rᵀ's gates' and candidate's rows where they lie.
        if (resetBefore && cell == typeof(GruSequence)) Add(typeof(TransposedPacking), nameof(TransposedPacking.RepackRows));
        // The step's products run on the batch, or on a half of it (rows split between threads, or in two passes).
        int[] stepRows = [.. new[] { batch, batch / 2, batch - batch / 2 }.Distinct().Where(r => r > 0)];
        // An LSTM and a reset-after GRU run a large step's products a block of rows at a time (RecurrentSequence.StepRowBlocks).
        int Blocks(int rows) => cell == typeof(LstmSequence) ? LstmSequence.StepRowBlocks(rows, units, width, CacheSizes.L2Bytes)
            : cell == typeof(GruSequence) && !resetBefore ? GruSequence.StepRowBlocks(rows, units, CacheSizes.L2Bytes) : 1;
        static IEnumerable<int> BlockRows(int rows, int blocks) => Enumerable.Range(0, blocks).Select(k => rows * (k + 1) / blocks - rows * k / blocks);
        int[] productRows = [.. stepRows.SelectMany(rows => BlockRows(rows, Blocks(rows))).Distinct()];
        // An LSTM's step products fetch the next step's arrays where those fit the L2 and all steps' do not (LstmSequence's
        // steps); listed wherever either pass's would (the backward's step, the forward's sequence of the whole batch: the larger).
        // A reset-before GRU's do where any of its products would (GruSequence.FetchesAhead).
        // A reset-after GRU's fetch the next block's (GruSequence.FetchesNextBlock).
        bool SidePrefetch(int rows) => cell == typeof(LstmSequence)
            ? RecurrentSequence.PrefetchesNextStep((long)rows * (width + 2 * units), (long)steps * batch * (width + 3 * units), CacheSizes.L2Bytes)
            : cell == typeof(GruSequence) && (resetBefore
                ? new[] { (true, true), (true, false), (false, true) }.Any(p => GruSequence.FetchesAhead(rows, batch, steps, units, p.Item1, p.Item2, CacheSizes.L2Bytes))
                : GruSequence.FetchesNextBlock(rows, batch, steps, units, CacheSizes.L2Bytes));
        // A sequence of the batch or of a half of it takes the input projection inside the step products
        // (RecurrentSequence.TakesInputProjection), and one with enough gate values shares one pass for its weight gradients.
        bool sharedGradients = stepRows.Any(rows => RecurrentSequence.SharesWeightGradients((long)steps * rows * width));
        bool leads = stepRows.Any(rows => RecurrentSequence.TakesInputProjection(features, (long)steps * rows * width));
        if (leads && cell == typeof(GruSequence))
        {
            Add(cell, "SplitInputKernel");
            Add(typeof(SequenceLayout), nameof(SequenceLayout.FillRowsWithBias));
        }
        foreach (int rows in productRows)
            Gemm.AddProductToPrewarm(this, rows, units, width, transA: false, transB: false, threads: 1, prepacked: true, sidePrefetch: SidePrefetch(rows),
                lead: leads);
        foreach (var pass in ColumnPasses(cell)) Append(pass);
        Add(typeof(RecurrentSequence), "BackwardRows");
        Add(typeof(SequenceLayout), nameof(SequenceLayout.AddOutputGradient));
        Add(typeof(SequenceLayout), nameof(SequenceLayout.Add));
        foreach (int rows in productRows)
            Gemm.AddProductToPrewarm(this, rows, width, units, transA: false, transB: false, threads: 1, prepacked: true, sidePrefetch: SidePrefetch(rows));
        Add(typeof(SequenceLayout), "AddInputWeightGradientRange");
        // Column blocks of the path's width, then Vector256 and scalar ones for the columns left.
        Add(typeof(SequenceLayout), "AddInputWeightGradientBlock", []);
        Add(typeof(SequenceLayout), "AddInputWeightGradientBlock", typeof(Vector256<float>), typeof(Vector256Ops));
        Add(typeof(SequenceLayout), "AddInputWeightGradientColumns", []);
        Add(typeof(SequenceLayout), "AddInputWeightGradientColumns", typeof(Vector256<float>), typeof(Vector256Ops));
        Add(typeof(SequenceLayout), "AddInputWeightGradientColumns", typeof(float), typeof(ScalarOps));
        Gemm.AddProductToPrewarm(this, units, all, width, transA: true, transB: false, threads);
        Gemm.AddProductToPrewarm(this, features, all, width, transA: true, transB: false, threads);
        if (sharedGradients) Gemm.AddTransposedPartsToPrewarm(this, all, units, [units, features, 1]);
        Gemm.AddProductToPrewarm(this, all, width, features, transA: false, transB: true, threads);
    }

    // The cell's own methods with loops, where it has them.
    private static string[] CellMethods(Type cell) => cell.Name switch
    {
        nameof(GruSequence) => ["ForwardStep", "ResetBeforeForwardStep", "BackwardStep", "AddWeightGradients"],
        // The loops over a step's row blocks (LstmSequence.StepRowBlocks).
        nameof(LstmSequence) => ["ForwardStep", "BackwardStep"],
        _ => [],
    };

    /// <summary>
    /// The <c>ColumnLoop.Rows</c> instantiations the cell type's code asks for: each <c>ColumnLoop.Run&lt;TFirst[, TSecond]&gt;</c>
    /// call in its methods (and its nested types') names the passes, which <c>Rows</c> runs on the path's vector type.
    /// </summary>
    private IEnumerable<MethodBase> ColumnPasses(Type cell)
    {
        var rows = typeof(ColumnLoop).GetMethod("Rows", BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException("The kernel prewarm needs ColumnLoop.Rows<TFirst, TSecond, TV, TOps>: update KernelPrewarm.ColumnPasses.");
        var found = new List<MethodBase>();
        foreach (var type in new[] { cell }.Concat(cell.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)))
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                foreach (var called in CalledMethods(method))
                {
                    if (called.DeclaringType != typeof(ColumnLoop) || called.Name != nameof(ColumnLoop.Run) || !called.IsGenericMethod) continue;
                    var passes = called.GetGenericArguments();
                    if (passes.Any(p => p.IsGenericParameter)) continue;
                    var pair = passes.Length == 2 ? passes : [passes[0], typeof(NoColumns)];
                    found.Add(rows.MakeGenericMethod(pair[0], pair[1], Vector, Ops));
                }
        if (found.Count == 0)
            throw new InvalidOperationException($"The kernel prewarm found no ColumnLoop.Run call in {cell.FullName}: update KernelPrewarm.ColumnPasses.");
        return found;
    }

    // The methods a method's IL calls (call, callvirt, newobj, ldftn), resolved in its generic context.
    private static IEnumerable<MethodBase> CalledMethods(MethodInfo method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (InvalidOperationException) { yield break; }
        if (il is null) yield break;
        var typeArguments = method.DeclaringType!.IsGenericType ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            var (code, operandSize, size) = IlReader.Read(il, i);
            if (operandSize == 4 && code is 0x28 or 0x6F or 0x73 or 0xFE06)
            {
                MethodBase? called = null;
                try { called = method.Module.ResolveMethod(BitConverter.ToInt32(il, i + size), typeArguments, methodArguments); }
                catch (ArgumentException) { }
                if (called is not null) yield return called;
            }
            i += size + operandSize;
        }
    }

    /// <summary>The worker pool's side of a split pass: what the training thread runs when it hands parts to a second thread.</summary>
    public void AddWorkerPool()
    {
        Add(typeof(WorkerPool), nameof(WorkerPool.Run));
        Add(typeof(WorkerPool), "EnsureWorkers");
        Add(typeof(WorkerPool), "RunClaimedParts");
        Add(typeof(WorkerPool), "TryClaim");
        Add(typeof(WorkerPool), "Loop");
    }

    /// <summary>
    /// The CoreLib generic instantiations over float (and int shapes) a first step compiles. CoreLib is not ours: an entry a
    /// runtime version lacks is left out rather than failing the prewarm.
    /// </summary>
    public void AddCoreLibGenerics()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static;
        foreach (var method in typeof(GC).GetMethods(all).Where(m => m.IsGenericMethodDefinition && m.GetGenericArguments().Length == 1
            && (m.Name is nameof(GC.AllocateUninitializedArray) or nameof(GC.AllocateArray) || m.Name.Contains("AllocateNewArrayWorker", StringComparison.Ordinal))))
            Append(method.MakeGenericMethod(typeof(float)));
        // AsSpan(array, start) and AsSpan(array, start, length): the many other overloads are not called.
        foreach (var asSpan in typeof(MemoryExtensions).GetMethods(all).Where(m => m.Name == nameof(MemoryExtensions.AsSpan) && m.IsGenericMethodDefinition
            && m.GetParameters() is [{ ParameterType.IsArray: true }, { ParameterType: var start }, ..] ps && start == typeof(int) && ps.Skip(1).All(p => p.ParameterType == typeof(int))))
        {
            Append(asSpan.MakeGenericMethod(typeof(float)));
            Append(asSpan.MakeGenericMethod(typeof(int)));
        }
        // Shapes compared as spans (the layers' buffer cache).
        foreach (var equal in typeof(MemoryExtensions).GetMethods(all).Where(m => m.Name == nameof(MemoryExtensions.SequenceEqual) && m.IsGenericMethodDefinition
            && m.GetParameters() is [{ ParameterType: var first }, { ParameterType: var second }] && first == second && first.IsGenericType
            && first.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>)))
            Append(equal.MakeGenericMethod(typeof(int)));
        foreach (var reference in typeof(MemoryMarshal).GetMethods(all).Where(m => m.IsGenericMethodDefinition && m.GetGenericArguments().Length == 1
            && (m.Name == nameof(MemoryMarshal.GetArrayDataReference) && m.GetParameters()[0].ParameterType.IsArray
                || m.Name == nameof(MemoryMarshal.GetReference))))
            Append(reference.MakeGenericMethod(typeof(float)));
    }

    /// <summary>
    /// On a new background thread, makes the list <paramref name="list"/> gives, compiling each method (running each listed
    /// static constructor) as it is listed, skipping what an earlier prewarm in this process compiled; the task completes
    /// when all are compiled, or faults with what went wrong (the training steps then compile what is left, as without it).
    /// </summary>
    public static Task Run(Func<KernelPrewarm> list)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                t_compileAsListed = true;
                list();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "Neurite kernel prewarm" };
        thread.Start();
        return done.Task;
    }
}

/// <summary>Walks IL one instruction at a time (opcode, operand size), for <see cref="KernelPrewarm"/>'s reading of which passes a cell runs.</summary>
internal static class IlReader
{
    private static readonly Dictionary<int, System.Reflection.Emit.OpCode> s_codes = typeof(System.Reflection.Emit.OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (System.Reflection.Emit.OpCode)f.GetValue(null)!)
        .GroupBy(c => c.Value & 0xFFFF)
        .ToDictionary(g => g.Key, g => g.First());

    /// <summary>The instruction at <paramref name="offset"/>: its opcode (two-byte ones as 0xFExx), its operand's size and the opcode's size.</summary>
    public static (int Code, int OperandSize, int Size) Read(byte[] il, int offset)
    {
        int code = il[offset], size = 1;
        if (code == 0xFE && offset + 1 < il.Length) { code = 0xFE00 | il[offset + 1]; size = 2; }
        if (!s_codes.TryGetValue(code, out var op)) return (code, 0, size);
        int operand = op.OperandType switch
        {
            System.Reflection.Emit.OperandType.InlineNone => 0,
            System.Reflection.Emit.OperandType.ShortInlineBrTarget or System.Reflection.Emit.OperandType.ShortInlineI
                or System.Reflection.Emit.OperandType.ShortInlineVar => 1,
            System.Reflection.Emit.OperandType.InlineVar => 2,
            System.Reflection.Emit.OperandType.InlineI8 or System.Reflection.Emit.OperandType.InlineR => 8,
            System.Reflection.Emit.OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, offset + size),
            _ => 4,
        };
        return (code, operand, size);
    }
}
