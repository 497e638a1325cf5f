namespace Neurite.Cuda;

/// <summary>The CUDA backend cannot run here; the message names what is missing (driver, library or device) and the fix.</summary>
public sealed class CudaUnavailableException : NeuriteException
{
    public CudaUnavailableException(string message) : base(message) { }
    public CudaUnavailableException(string message, Exception inner) : base(message, inner) { }
}
