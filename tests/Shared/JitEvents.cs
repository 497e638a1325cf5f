using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Neurite.Tests.Shared;

/// <summary>Methods a probe calls on the training thread right before and after a step: their JIT events bracket the step's.</summary>
/// <remarks>AggressiveOptimization: ReadyToRun never precompiles such a method, so its first call is a JIT event in a
/// ReadyToRun build too (the bench's cold children run one).</remarks>
internal static class StepMarkers
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Begin() { }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void End() { }
}

/// <summary>One method the JIT compiled: on which thread, at which optimization tier (the runtime's numbering,
/// <see cref="JitListener.TierName"/>), and whether optimised (not tier 0).</summary>
internal sealed record JitEvent(ulong Thread, string Type, string Name, string Signature, int Tier)
{
    /// <summary>When the runtime wrote the event (UTC).</summary>
    public DateTime TimeStamp { get; init; }

    public bool Optimized => Tier != JitListener.QuickJitted;
}

/// <summary>The runtime's MethodLoadVerbose events (JIT keyword): each method the JIT compiled, on which thread, at which tier.</summary>
internal sealed class JitListener : EventListener
{
    private const int JitKeyword = 0x10;
    // MethodFlags bits 7-9: the code's optimization tier; 3 is tier 0 (QuickJitted), the unoptimised code the tool's
    // ReadyToRun image holds precompiled for a kernel's plumbing.
    private const int TierShift = 7;
    internal const int QuickJitted = 3;

    /// <summary>The runtime's name of an optimization tier (its NativeCodeVersion::OptimizationTier, as the events number them).</summary>
    public static string TierName(int tier) => tier switch
    {
        1 => "MinOpt",
        2 => "Optimized",
        3 => "Tier0",
        4 => "Tier1",
        5 => "Tier1-OSR",
        6 => "Tier0-instrumented",
        7 => "Tier1-instrumented",
        _ => "tier " + tier.ToString(CultureInfo.InvariantCulture),
    };

    public ConcurrentQueue<JitEvent> Events { get; } = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)JitKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("MethodLoadVerbose", StringComparison.Ordinal) || e.Payload is null) return;
        uint flags = Convert.ToUInt32(e.Payload[5], CultureInfo.InvariantCulture);
        Events.Enqueue(new JitEvent((ulong)e.OSThreadId, (string)e.Payload[6]!, (string)e.Payload[7]!, (string)e.Payload[8]!,
            (int)((flags >> TierShift) & 7)) { TimeStamp = e.TimeStamp });
    }
}
