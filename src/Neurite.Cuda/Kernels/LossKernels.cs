using ILGPU;

namespace Neurite.Cuda.Kernels;

/// <summary>
/// Losses with their gradients, one thread per sample row, in the CPU's formulas (<c>Neurite.Losses</c>):
/// each row writes its loss times its weight to <c>rowLoss</c> and, with <c>wantGradient</c>, its gradient
/// scaled by weight/averageOver. Sums stay in double, as on the CPU.
/// </summary>
internal static class LossKernels
{
    public const float Epsilon = 1e-7f;

    /// <summary>Cross-entropy from probabilities (Keras): q = clip(p/Σp, ε, 1−ε). <c>sparse</c>: truth holds one class index per row.</summary>
    public static void CrossEntropy(Index1D row, ArrayView<float> pred, ArrayView<float> truth, ArrayView<float> gradient, ArrayView<double> rowLoss,
        ArrayView<float> weights, int width, int sparse, float invAverageOver, int hasWeights, int wantGradient)
    {
        int start = row * width;
        int truthStart = sparse != 0 ? row : start;
        float w = hasWeights != 0 ? weights[row] : 1f;
        float scale = w * invAverageOver;
        int label = sparse != 0 ? (int)truth[truthStart] : -1;
        double sum = 0;
        for (int k = 0; k < width; k++) sum += pred[start + k];
        double loss = 0, gp = 0;
        for (int k = 0; k < width; k++)
        {
            double y = sparse != 0 ? (k == label ? 1.0 : 0.0) : truth[truthStart + k];
            double q = pred[start + k] / sum;
            bool clipped = q < Epsilon || q > 1 - Epsilon;
            double qc = q < Epsilon ? Epsilon : q > 1 - Epsilon ? 1 - Epsilon : q;
            if (y != 0) loss -= y * Math.Log(qc);
            if (wantGradient != 0)
            {
                double g = clipped || y == 0 ? 0 : -y / qc;
                gradient[start + k] = (float)g;
                gp += g * pred[start + k];
            }
        }
        if (wantGradient != 0)
            for (int k = 0; k < width; k++)
                gradient[start + k] = (float)((gradient[start + k] / sum - gp / (sum * sum)) * scale);
        rowLoss[row] = w * loss;
    }

    public static void BinaryCrossEntropy(Index1D row, ArrayView<float> pred, ArrayView<float> truth, ArrayView<float> gradient, ArrayView<double> rowLoss,
        ArrayView<float> weights, int width, float invAverageOver, int hasWeights, int wantGradient)
    {
        int start = row * width;
        float w = hasWeights != 0 ? weights[row] : 1f;
        float scale = w * invAverageOver;
        double loss = 0;
        for (int k = 0; k < width; k++)
        {
            double p = pred[start + k], y = truth[start + k];
            bool clipped = p < Epsilon || p > 1 - Epsilon;
            double pc = p < Epsilon ? Epsilon : p > 1 - Epsilon ? 1 - Epsilon : p;
            loss -= y * Math.Log(pc) + (1 - y) * Math.Log(1 - pc);
            if (wantGradient != 0)
                gradient[start + k] = clipped ? 0f : (float)((-y / pc + (1 - y) / (1 - pc)) / width * scale);
        }
        rowLoss[row] = w * (loss / width);
    }

    public static void MeanSquaredError(Index1D row, ArrayView<float> pred, ArrayView<float> truth, ArrayView<float> gradient, ArrayView<double> rowLoss,
        ArrayView<float> weights, int width, float invAverageOver, int hasWeights, int wantGradient)
    {
        int start = row * width;
        float w = hasWeights != 0 ? weights[row] : 1f;
        float scale = w * invAverageOver;
        double loss = 0;
        for (int k = 0; k < width; k++)
        {
            double d = pred[start + k] - truth[start + k];
            loss += d * d;
            if (wantGradient != 0) gradient[start + k] = (float)(2 * d / width * scale);
        }
        rowLoss[row] = w * (loss / width);
    }

    public static void MeanAbsoluteError(Index1D row, ArrayView<float> pred, ArrayView<float> truth, ArrayView<float> gradient, ArrayView<double> rowLoss,
        ArrayView<float> weights, int width, float invAverageOver, int hasWeights, int wantGradient)
    {
        int start = row * width;
        float w = hasWeights != 0 ? weights[row] : 1f;
        float scale = w * invAverageOver;
        double loss = 0;
        for (int k = 0; k < width; k++)
        {
            float d = pred[start + k] - truth[start + k];
            loss += d < 0 ? -d : d;
            float sign = d > 0 ? 1f : d < 0 ? -1f : 0f;
            if (wantGradient != 0) gradient[start + k] = sign * scale / width;
        }
        rowLoss[row] = w * (loss / width);
    }
}
