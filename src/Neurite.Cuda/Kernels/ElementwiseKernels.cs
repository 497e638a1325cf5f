using ILGPU;

namespace Neurite.Cuda.Kernels;

/// <summary>Element-wise and row-wise kernels of the layers: one thread per element (or per row, or per column for sums).</summary>
internal static class ElementwiseKernels
{
    public static void AddBias(Index1D i, ArrayView<float> matrix, ArrayView<float> bias, int cols) =>
        matrix[i] += bias[i % cols];

    /// <summary>One thread per column: <c>sums[j] (+)= Σ_i matrix[i, j]</c>, rows in order.</summary>
    public static void SumRows(Index1D j, ArrayView<float> matrix, ArrayView<float> sums, int rows, int cols, int accumulate)
    {
        float s = 0f;
        for (int r = 0; r < rows; r++) s += matrix[r * cols + j];
        sums[j] = accumulate != 0 ? sums[j] + s : s;
    }

    public static void Tanh(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = DeviceMath.Tanh(x[i]);

    public static void Sigmoid(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = DeviceMath.Sigmoid(x[i]);

    public static void Relu(Index1D i, ArrayView<float> z, ArrayView<float> a) => a[i] = z[i] > 0f ? z[i] : 0f;

    public static void ReluBackward(Index1D i, ArrayView<float> z, ArrayView<float> da, ArrayView<float> dz) =>
        dz[i] = z[i] > 0f ? da[i] : 0f;

    /// <summary><c>dz = da · f'(a)</c> for an activation whose derivative is a function of its output (tanh, sigmoid...).</summary>
    public static void ActivationBackwardFromOutput(Index1D i, ArrayView<float> a, ArrayView<float> da, ArrayView<float> dz, int activation) =>
        dz[i] = da[i] * DeviceMath.DerivativeFromOutput(activation, a[i]);

    public static void AddInPlace(Index1D i, ArrayView<float> target, ArrayView<float> addend) => target[i] += addend[i];

    public static void Multiply(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> product) => product[i] = a[i] * b[i];

    /// <summary>One thread per row: a_j = e^(z_j − max z) / Σ_k e^(z_k − max z).</summary>
    public static void Softmax(Index1D row, ArrayView<float> z, ArrayView<float> a, int cols)
    {
        int start = row * cols;
        float max = float.NegativeInfinity;
        for (int j = 0; j < cols; j++) max = z[start + j] > max ? z[start + j] : max;
        float sum = 0f;
        for (int j = 0; j < cols; j++)
        {
            float e = MathF.Exp(z[start + j] - max);
            a[start + j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int j = 0; j < cols; j++) a[start + j] *= inv;
    }

    /// <summary>One thread per row: dz_j = a_j (da_j − Σ_k a_k da_k).</summary>
    public static void SoftmaxBackward(Index1D row, ArrayView<float> a, ArrayView<float> da, ArrayView<float> dz, int cols)
    {
        int start = row * cols;
        float dot = 0f;
        for (int j = 0; j < cols; j++) dot += a[start + j] * da[start + j];
        for (int j = 0; j < cols; j++) dz[start + j] = a[start + j] * (da[start + j] - dot);
    }

    /// <summary><c>output[i] = input[i] · (bit i of keepBits ? keep : 0)</c>; bits little-endian within each byte, as the CPU's sampler writes them.</summary>
    public static void MultiplyByKeepBits(Index1D i, ArrayView<float> input, ArrayView<byte> keepBits, float keep, ArrayView<float> output) =>
        output[i] = ((keepBits[i >> 3] >> (i & 7)) & 1) != 0 ? input[i] * keep : 0f;

    public static void SpreadKeepBits(Index1D i, ArrayView<byte> keepBits, float keep, ArrayView<float> mask) =>
        mask[i] = ((keepBits[i >> 3] >> (i & 7)) & 1) != 0 ? keep : 0f;

    /// <summary>
    /// Row-major <c>c (+)= op(a)·op(b)</c>, one thread per element of c, k in order: the product on
    /// accelerators without cuBLAS (ILGPU's CPU accelerator in the tests).
    /// </summary>
    public static void Gemm(Index2D at, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int k, int n, int m, int transA, int transB, int accumulate)
    {
        int row = at.X, col = at.Y;
        float s = 0f;
        for (int p = 0; p < k; p++)
        {
            float av = transA != 0 ? a[p * m + row] : a[row * k + p];
            float bv = transB != 0 ? b[col * k + p] : b[p * n + col];
            s += av * bv;
        }
        int ci = row * n + col;
        c[ci] = accumulate != 0 ? c[ci] + s : s;
    }
}
