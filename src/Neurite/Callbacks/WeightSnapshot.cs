namespace Neurite.Callbacks;

/// <summary>
/// A model's weights copied into arrays that are kept from one copy to the next, for callbacks that keep the best epoch's
/// weights: those copy on most of the first epochs, and fresh copies (<see cref="Sequential.GetWeights"/>) put new memory
/// and their first calls into each (bench/results/cold-start-s10.md).
/// </summary>
internal sealed class WeightSnapshot
{
    private float[][] _values = [];

    /// <summary>Whether weights were taken since the last <see cref="Clear"/>.</summary>
    public bool Taken { get; private set; }

    public void Clear() => Taken = false;

    public void Take(Sequential model)
    {
        model.SyncHostFromBackend();
        var layers = model.Layers;
        int count = 0;
        for (int l = 0; l < layers.Count; l++) count += layers[l].Parameters.Count;
        if (_values.Length != count) _values = new float[count][];
        for (int l = 0, i = 0; l < layers.Count; l++)
        {
            layers[l].HeldBy?.SyncToHost();
            var parameters = layers[l].Parameters;
            for (int p = 0; p < parameters.Count; p++, i++)
            {
                var values = parameters[p].Value.Span;
                if (_values[i]?.Length != values.Length) _values[i] = new float[values.Length];
                values.CopyTo(_values[i]);
            }
        }
        Taken = true;
    }

    /// <summary>Puts the weights taken last back into <paramref name="model"/>; nothing when none were taken.</summary>
    public void Restore(Sequential model)
    {
        if (!Taken) return;
        var weights = new List<Tensor>(_values.Length);
        foreach (var layer in model.Layers)
            foreach (var parameter in layer.Parameters) weights.Add(new Tensor(_values[weights.Count], parameter.Value.ShapeArray));
        model.SetWeights(weights);
    }
}
