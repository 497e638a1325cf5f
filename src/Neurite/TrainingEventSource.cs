using System.Diagnostics.Tracing;

namespace Neurite;

/// <summary>
/// <see cref="Sequential.Fit"/>'s progress as events of the event source named <see cref="SourceName"/>, for a profiler or an
/// in-process <see cref="EventListener"/> to time training that runs inside code it cannot hand a callback to (the
/// forecaster's members, a command of the tool): <c>FitBegin</c> when Fit is entered, <c>BatchBegin</c> and <c>BatchEnd</c>
/// around each training batch (its callbacks included), <c>FitEnd</c> when Fit returns.
/// </summary>
/// <remarks>
/// An in-process listener receives each event on the training thread while Fit waits, so it can read that thread's clocks
/// there. Without a listener each site costs one test of a flag.
/// </remarks>
[EventSource(Name = SourceName)]
internal sealed class TrainingEventSource : EventSource
{
    /// <summary>The name a listener enables.</summary>
    public const string SourceName = "Neurite-Training";

    public static readonly TrainingEventSource Log = new();

    private TrainingEventSource()
    {
    }

    [Event(1, Level = EventLevel.Informational)]
    public void FitBegin(int epochs) => WriteEvent(1, epochs);

    [Event(2, Level = EventLevel.Verbose)]
    public void BatchBegin(int epoch, int step) => WriteEvent(2, epoch, step);

    [Event(3, Level = EventLevel.Verbose)]
    public void BatchEnd(int epoch, int step) => WriteEvent(3, epoch, step);

    [Event(4, Level = EventLevel.Informational)]
    public void FitEnd() => WriteEvent(4);
}
