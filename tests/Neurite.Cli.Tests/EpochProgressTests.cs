using System.Text.RegularExpressions;
using Neurite.Cli.Tutorial;

namespace Neurite.Cli.Tests;

/// <summary>
/// The progress lines of classify and the tutorial (<see cref="EpochProgress"/>): their text, which the commands print as
/// they always have, and which epochs get one.
/// </summary>
public sealed partial class EpochProgressTests
{
    [Fact]
    public void A_line_pads_the_epoch_to_the_totals_width_and_gives_each_value_to_four_places_and_the_times_to_one()
    {
        var values = new Dictionary<string, double> { ["loss"] = 0.69314718, ["accuracy"] = 0.5, ["val_loss"] = 12.25, ["val_accuracy"] = 0.123456 };

        Assert.Equal("classify epoch   1/200 - loss: 0.6931 - accuracy: 0.5000 - val_loss: 12.2500 - val_accuracy: 0.1235 - 0.3s elapsed, 59.7s left",
            EpochProgress.Line("classify", 1, 200, values, 0.3, 59.7));
        Assert.Equal("classify epoch  20/200 - loss: 0.6931 - accuracy: 0.5000 - val_loss: 12.2500 - val_accuracy: 0.1235 - 2.0s elapsed, 18.0s left",
            EpochProgress.Line("classify", 20, 200, values, 2.0, 18.04));
        Assert.Equal("lstm epoch 200/200 - loss: 0.6931 - accuracy: 0.5000 - val_loss: 12.2500 - val_accuracy: 0.1235 - 123.5s elapsed, 0.0s left",
            EpochProgress.Line("lstm", 200, 200, values, 123.45, 0));
    }

    [Fact]
    public void A_line_without_values_keeps_both_separators()
    {
        Assert.Equal("iris epoch 3/9 -  - 1.0s elapsed, 2.0s left", EpochProgress.Line("iris", 3, 9, new Dictionary<string, double>(), 1, 2));
    }

    [Fact]
    public void Without_a_live_terminal_the_first_every_tenth_and_last_epochs_print_a_line()
    {
        var output = new StringWriter();
        var progress = new EpochProgress(output, 20, live: false, label: "classify");
        var values = new Dictionary<string, double> { ["loss"] = 0.25 };
        for (int epoch = 1; epoch <= 20; epoch++) progress.EpochDone(epoch, values);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        int[] printed = [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20];
        Assert.Equal(printed.Length, lines.Length);
        for (int i = 0; i < printed.Length; i++)
        {
            var match = LineShape().Match(lines[i]);
            Assert.True(match.Success, lines[i]);
            Assert.Equal(printed[i].ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2), match.Groups["epoch"].Value);
        }
    }

    [GeneratedRegex(@"^classify epoch (?<epoch>[ \d]{2})/20 - loss: 0\.2500 - \d+\.\ds elapsed, \d+\.\ds left$")]
    private static partial Regex LineShape();
}
