using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Neurite.Tests.Shared;

/// <summary>Methods a probe calls on the training thread right before and after a step: their JIT events bracket the step's.</summary>
internal static class StepMarkers
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static void Begin() { }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static void End() { }
}

/// <summary>One method the JIT compiled: on which thread, and whether optimised (not tier 0).</summary>
internal sealed record JitEvent(ulong Thread, string Type, string Name, string Signature, bool Optimized);

/// <summary>The runtime's MethodLoadVerbose events (JIT keyword): each method the JIT compiled, on which thread, at which tier.</summary>
internal sealed class JitListener : EventListener
{
    private const int JitKeyword = 0x10;
    // MethodFlags bits 7-9: the code's optimization tier; 3 is tier 0 (QuickJitted), the unoptimised code the tool's
    // ReadyToRun image holds precompiled for a kernel's plumbing.
    private const int TierShift = 7, QuickJitted = 3;

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
            ((flags >> TierShift) & 7) != QuickJitted));
    }
}
