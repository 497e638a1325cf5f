namespace Neurite;

/// <summary>The library's own error for bad input, bad configuration or bad files; its message says what to do.</summary>
public class NeuriteException : Exception
{
    public NeuriteException(string message) : base(message) { }
    public NeuriteException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A tensor had a shape other than the one an operation needs.</summary>
public sealed class ShapeMismatchException : NeuriteException
{
    public ShapeMismatchException(string operation, string expected, string actual, string fix)
        : base($"Shape mismatch in {operation}: expected {expected}, received {actual}. {fix}")
    {
        Operation = operation;
        Expected = expected;
        Actual = actual;
    }

    public string Operation { get; }
    public string Expected { get; }
    public string Actual { get; }
}
