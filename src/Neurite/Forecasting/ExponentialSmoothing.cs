namespace Neurite.Forecasting;

/// <summary>Trend of an exponential-smoothing model: none, additive (Holt), or additive damped by φ.</summary>
public enum EtsTrend { None, Additive, Damped }

/// <summary>Season of an exponential-smoothing model: none, additive, or multiplicative (positive series only).</summary>
public enum EtsSeason { None, Additive, Multiplicative }

/// <summary>
/// An exponential-smoothing state-space model with additive errors (Hyndman et al., <i>Forecasting with
/// exponential smoothing</i>, 2008, table 2.3): ETS(A,N|A|Ad,N|A|M). With ŷₜ = (ℓ + φb) ⊕ sₜ₋ₘ and eₜ = yₜ − ŷₜ:
/// ℓ ← ℓ + φb + αe/r, b ← φb + βe/r, sₜ ← sₜ₋ₘ + γe (additive season, r = 1) or sₜ₋ₘ + γe/(ℓ + φb)
/// (multiplicative, r = sₜ₋ₘ). φ = 1 for an undamped trend; b = 0 without one.
/// </summary>
/// <remarks>Seasonal0: Initial seasonal states: element j is the seasonal value used for y[j], j &lt; m.</remarks>
public sealed record EtsModel(EtsTrend Trend, EtsSeason Season, int Period, double Alpha, double Beta, double Gamma, double Phi,
    double Level0, double Trend0, double[] Seasonal0)
{
    /// <summary>Short name in Hyndman's notation, e.g. ETS(A,Ad,M).</summary>
    public string Name => $"ETS(A,{Trend switch { EtsTrend.None => "N", EtsTrend.Additive => "A", _ => "Ad" }},{Season switch { EtsSeason.None => "N", EtsSeason.Additive => "A", _ => "M" }})";

    /// <summary>Parameters estimated besides the error variance (smoothing, damping, initial states), for AICc.</summary>
    public int ParameterCount => 2 + (Trend == EtsTrend.None ? 0 : 2) + (Trend == EtsTrend.Damped ? 1 : 0) + (Season == EtsSeason.None ? 0 : Period);

    /// <summary>
    /// Forecasts of steps 1..<paramref name="horizon"/> from every origin t in [<paramref name="firstOrigin"/>,
    /// <paramref name="lastOrigin"/>] (t = index of the last value known), running the model over y[0..t].
    /// Origin −1 forecasts from the initial states. Row i holds origin firstOrigin + i.
    /// </summary>
    public double[,] Forecasts(IReadOnlyList<double> y, int firstOrigin, int lastOrigin, int horizon)
    {
        if (firstOrigin < -1 || lastOrigin < firstOrigin || lastOrigin >= y.Count)
            throw new NeuriteException($"Origins {firstOrigin}..{lastOrigin} do not lie within the {y.Count} values of the series.");
        var result = new double[lastOrigin - firstOrigin + 1, horizon];
        var state = new State(this);
        for (int t = -1; t <= lastOrigin; t++)
        {
            if (t >= 0) state.Update(y[t], t);
            if (t >= firstOrigin)
                for (int k = 1; k <= horizon; k++) result[t - firstOrigin, k - 1] = state.Forecast(t + k, k);
        }
        return result;
    }

    /// <summary>Sum of squared one-step errors over y, or +∞ when the states leave the region where the model is defined.</summary>
    public double SumOfSquaredErrors(IReadOnlyList<double> y)
    {
        var state = new State(this);
        double sse = 0;
        for (int t = 0; t < y.Count; t++)
        {
            double e = y[t] - state.Forecast(t, 1);
            sse += e * e;
            if (!state.Update(y[t], t) || !double.IsFinite(sse)) return double.PositiveInfinity;
        }
        return sse;
    }

    /// <summary>The model's running states: level, trend and the last m seasonal values.</summary>
    private struct State(EtsModel m)
    {
        private double _level = m.Level0, _trend = m.Trend == EtsTrend.None ? 0 : m.Trend0;
        private readonly double[] _season = m.Season == EtsSeason.None ? [] : (double[])m.Seasonal0.Clone();
        private readonly double _phi = m.Trend == EtsTrend.Damped ? m.Phi : 1;

        /// <summary>Forecast of y[target] made k steps ahead (target − k is the origin).</summary>
        public readonly double Forecast(int target, int k)
        {
            double damped = 0, p = 1;
            for (int i = 0; i < k; i++) { p *= _phi; damped += p; }
            double baseline = _level + damped * _trend;
            if (m.Season == EtsSeason.None) return baseline;
            // Step k ahead reads the newest seasonal state for its position in the season.
            double s = _season[Mod(target, m.Period)];
            return m.Season == EtsSeason.Additive ? baseline + s : baseline * s;
        }

        /// <summary>Takes in y[t]; false when the model cannot continue (a non-positive level times a multiplicative season).</summary>
        public bool Update(double value, int t)
        {
            double baseline = _level + _phi * _trend;
            if (m.Season == EtsSeason.None)
            {
                double e0 = value - baseline;
                _level = baseline + m.Alpha * e0;
                _trend = _phi * _trend + m.Beta * e0;
                return true;
            }
            int j = Mod(t, m.Period);
            double s = _season[j];
            if (m.Season == EtsSeason.Additive)
            {
                double e = value - (baseline + s);
                _level = baseline + m.Alpha * e;
                _trend = _phi * _trend + m.Beta * e;
                _season[j] = s + m.Gamma * e;
                return true;
            }
            if (baseline <= 0 || s <= 0) return false;
            double em = value - baseline * s;
            _level = baseline + m.Alpha * em / s;
            _trend = _phi * _trend + m.Beta * em / s;
            _season[j] = s + m.Gamma * em / baseline;
            return true;
        }

        private static int Mod(int t, int period) => ((t % period) + period) % period;
    }
}
