using System.Runtime.InteropServices;

// First, so that the background JIT of the previous run's methods overlaps everything before training. Without a
// recording to play back (a new version's first run, or the profile turned off), the kernels of the model the command
// will train, from what its arguments say, on another background thread; with one, its player compiles them (and
// forecast's early prewarm runs beside it: EarlyPrewarm.BesideProfile).
if (!Neurite.Cli.JitProfile.Start(args) || Neurite.Cli.EarlyPrewarm.BesideProfile(args)) Neurite.Cli.EarlyPrewarm.Start(args);

using var interrupt = new CancellationTokenSource();
// Ctrl+C (SIGINT) asks training to stop after the current batch, so that nothing is left half-written;
// a second Ctrl+C is not intercepted and ends the process at once.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
{
    if (interrupt.IsCancellationRequested) return;
    signal.Cancel = true;
    interrupt.Cancel();
});
return Neurite.Cli.CliApp.Run(args, Console.Out, Console.Error, interrupt.Token);
