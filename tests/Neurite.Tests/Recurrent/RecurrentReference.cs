namespace Neurite.Tests.Recurrent;

/// <summary>
/// Plain double-precision recurrent layers, written straight from Keras's cell equations with no
/// layout tricks, fusion or SIMD: the independent forward that finite differences are taken of.
/// Layouts are Keras's: x (B, T, F), kernel (F, G·U), recurrent kernel (U, G·U).
/// </summary>
internal static class RecurrentReference
{
    public sealed record Result(double[] Output, double[] FinalHidden, double[] FinalCell);

    public static double Activate(string name, double x) => name switch
    {
        "tanh" => Math.Tanh(x),
        "sigmoid" => 1.0 / (1.0 + Math.Exp(-x)),
        "hard_sigmoid" => Math.Clamp(0.2 * x + 0.5, 0.0, 1.0),
        "relu" => Math.Max(0.0, x),
        "linear" => x,
        _ => throw new ArgumentException(name),
    };

    /// <summary>Σ_f x[f]·w[f, col] for a row-major (rows, width) matrix.</summary>
    private static double Dot(double[] x, int xOffset, int length, double[] w, int width, int col)
    {
        double sum = 0;
        for (int k = 0; k < length; k++) sum += x[xOffset + k] * w[k * width + col];
        return sum;
    }

    private static double[] InputAt(double[] x, int b, int t, int steps, int features, double[]? inputMask)
    {
        var v = new double[features];
        for (int k = 0; k < features; k++)
            v[k] = x[(b * steps + t) * features + k] * (inputMask?[b * features + k] ?? 1.0);
        return v;
    }

    private static double[] Masked(double[] h, int b, int units, double[]? mask)
    {
        var v = new double[units];
        for (int k = 0; k < units; k++) v[k] = h[k] * (mask?[b * units + k] ?? 1.0);
        return v;
    }

    public static Result Lstm(int batch, int steps, int features, int units, double[] x, double[]? h0, double[]? c0,
        double[] kernel, double[] recurrent, double[]? bias, string activation, string recurrentActivation,
        bool returnSequences, bool goBackwards, double[]? inputMask = null, double[]? recurrentMask = null)
    {
        int g = 4 * units;
        var output = new double[returnSequences ? batch * steps * units : batch * units];
        var finalH = new double[batch * units];
        var finalC = new double[batch * units];
        for (int b = 0; b < batch; b++)
        {
            var h = new double[units];
            var c = new double[units];
            for (int k = 0; k < units; k++) { h[k] = h0?[b * units + k] ?? 0; c[k] = c0?[b * units + k] ?? 0; }
            for (int s = 0; s < steps; s++)
            {
                int t = goBackwards ? steps - 1 - s : s;
                var xt = InputAt(x, b, t, steps, features, inputMask);
                var hd = Masked(h, b, units, recurrentMask);
                var hNew = new double[units];
                var cNew = new double[units];
                for (int k = 0; k < units; k++)
                {
                    double Z(int gate) => Dot(xt, 0, features, kernel, g, gate * units + k)
                        + Dot(hd, 0, units, recurrent, g, gate * units + k) + (bias?[gate * units + k] ?? 0);
                    double i = Activate(recurrentActivation, Z(0));
                    double f = Activate(recurrentActivation, Z(1));
                    double cc = Activate(activation, Z(2));
                    double o = Activate(recurrentActivation, Z(3));
                    cNew[k] = f * c[k] + i * cc;
                    hNew[k] = o * Activate(activation, cNew[k]);
                }
                h = hNew; c = cNew;
                if (returnSequences) Array.Copy(h, 0, output, (b * steps + s) * units, units);
            }
            if (!returnSequences) Array.Copy(h, 0, output, b * units, units);
            Array.Copy(h, 0, finalH, b * units, units);
            Array.Copy(c, 0, finalC, b * units, units);
        }
        return new Result(output, finalH, finalC);
    }

    /// <summary>
    /// Keras GRU. With resetAfter the bias is (2, 3U) = [input bias; recurrent bias], else (3U).
    /// Gate order z, r, h.
    /// </summary>
    public static Result Gru(int batch, int steps, int features, int units, double[] x, double[]? h0,
        double[] kernel, double[] recurrent, double[]? bias, string activation, string recurrentActivation, bool resetAfter,
        bool returnSequences, bool goBackwards, double[]? inputMask = null, double[]? recurrentMask = null)
    {
        int g = 3 * units;
        var output = new double[returnSequences ? batch * steps * units : batch * units];
        var finalH = new double[batch * units];
        for (int b = 0; b < batch; b++)
        {
            var h = new double[units];
            for (int k = 0; k < units; k++) h[k] = h0?[b * units + k] ?? 0;
            for (int s = 0; s < steps; s++)
            {
                int t = goBackwards ? steps - 1 - s : s;
                var xt = InputAt(x, b, t, steps, features, inputMask);
                var hd = Masked(h, b, units, recurrentMask);
                double InputBias(int col) => bias is null ? 0 : bias[col];
                double RecurrentBias(int col) => bias is null || !resetAfter ? 0 : bias[g + col];
                var z = new double[units];
                var r = new double[units];
                for (int k = 0; k < units; k++)
                {
                    z[k] = Activate(recurrentActivation, Dot(xt, 0, features, kernel, g, k) + InputBias(k)
                        + Dot(hd, 0, units, recurrent, g, k) + RecurrentBias(k));
                    r[k] = Activate(recurrentActivation, Dot(xt, 0, features, kernel, g, units + k) + InputBias(units + k)
                        + Dot(hd, 0, units, recurrent, g, units + k) + RecurrentBias(units + k));
                }
                var resetHidden = new double[units];
                for (int k = 0; k < units; k++) resetHidden[k] = r[k] * hd[k];
                var hNew = new double[units];
                for (int k = 0; k < units; k++)
                {
                    double xh = Dot(xt, 0, features, kernel, g, 2 * units + k) + InputBias(2 * units + k);
                    double recurrentH = resetAfter
                        ? r[k] * (Dot(hd, 0, units, recurrent, g, 2 * units + k) + RecurrentBias(2 * units + k))
                        : Dot(resetHidden, 0, units, recurrent, g, 2 * units + k);
                    double hh = Activate(activation, xh + recurrentH);
                    hNew[k] = z[k] * h[k] + (1 - z[k]) * hh;
                }
                h = hNew;
                if (returnSequences) Array.Copy(h, 0, output, (b * steps + s) * units, units);
            }
            if (!returnSequences) Array.Copy(h, 0, output, b * units, units);
            Array.Copy(h, 0, finalH, b * units, units);
        }
        return new Result(output, finalH, []);
    }

    public static Result SimpleRnn(int batch, int steps, int features, int units, double[] x, double[]? h0,
        double[] kernel, double[] recurrent, double[]? bias, string activation,
        bool returnSequences, bool goBackwards, double[]? inputMask = null, double[]? recurrentMask = null)
    {
        var output = new double[returnSequences ? batch * steps * units : batch * units];
        var finalH = new double[batch * units];
        for (int b = 0; b < batch; b++)
        {
            var h = new double[units];
            for (int k = 0; k < units; k++) h[k] = h0?[b * units + k] ?? 0;
            for (int s = 0; s < steps; s++)
            {
                int t = goBackwards ? steps - 1 - s : s;
                var xt = InputAt(x, b, t, steps, features, inputMask);
                var hd = Masked(h, b, units, recurrentMask);
                var hNew = new double[units];
                for (int k = 0; k < units; k++)
                    hNew[k] = Activate(activation, Dot(xt, 0, features, kernel, units, k) + Dot(hd, 0, units, recurrent, units, k) + (bias?[k] ?? 0));
                h = hNew;
                if (returnSequences) Array.Copy(h, 0, output, (b * steps + s) * units, units);
            }
            if (!returnSequences) Array.Copy(h, 0, output, b * units, units);
            Array.Copy(h, 0, finalH, b * units, units);
        }
        return new Result(output, finalH, []);
    }
}
