using System.Text.RegularExpressions;

namespace Neurite.Plots.Tests;

public sealed class HtmlReportTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "neurite-report-" + Guid.NewGuid().ToString("N"));

    // Not real PNGs: the report treats image bytes as opaque, and distinct bytes show which file got which image.
    private static readonly byte[] FirstPng = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3];
    private static readonly byte[] SecondPng = [0x89, 0x50, 0x4E, 0x47, 9, 8, 7, 6];

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Text_is_html_escaped_everywhere()
    {
        const string hostile = "<script>alert(\"x\")</script> & 'q'";
        var report = new HtmlReport(hostile)
            .AddHeading(hostile)
            .AddParagraph(hostile)
            .AddPreformatted(hostile)
            .AddTable([hostile], [[hostile]], caption: hostile)
            .AddKeyValues([(hostile, hostile)])
            .AddImage("a.png", FirstPng, hostile);

        string html = report.ToHtml();

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("alert(\"x\")", html);
        const string escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;";
        // Title element, h1, h2, p, pre, caption, th, td, dt, dd, img alt and figcaption.
        Assert.Equal(12, Regex.Matches(html, Regex.Escape(escaped)).Count);
    }

    [Fact]
    public void Each_image_is_embedded_as_a_base64_data_uri()
    {
        string html = new HtmlReport("r")
            .AddImage("first.png", FirstPng, "one")
            .AddImage("second.png", SecondPng, "two")
            .ToHtml();

        // Base64 of 89 50 4E 47 01 02 03, worked out by hand from the 6-bit groups.
        Assert.Contains("src=\"data:image/png;base64,iVBORwECAw==\"", html);
        Assert.Contains($"src=\"data:image/png;base64,{Convert.ToBase64String(SecondPng)}\"", html);
    }

    [Fact]
    public void WriteTo_writes_index_and_every_png_and_the_page_names_each_file()
    {
        var report = new HtmlReport("Iris report")
            .AddHeading("Data")
            .AddParagraph("150 flowers.")
            .AddImage("history.png", FirstPng, "Training history")
            .AddImage("confusion matrix.png", SecondPng, "Confusion matrix");

        report.WriteTo(_folder);

        string[] written = Directory.GetFiles(_folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(["confusion matrix.png", "history.png", "index.html"], written);
        Assert.Equal(FirstPng, File.ReadAllBytes(Path.Combine(_folder, "history.png")));
        Assert.Equal(SecondPng, File.ReadAllBytes(Path.Combine(_folder, "confusion matrix.png")));

        string html = File.ReadAllText(Path.Combine(_folder, "index.html"));
        Assert.Equal(report.ToHtml(), html);
        Assert.Contains("href=\"history.png\"", html);
        Assert.Contains("href=\"confusion%20matrix.png\"", html);
        Assert.Contains("Iris report", html);
        Assert.Equal(["history.png", "confusion matrix.png"], report.ImageFileNames);
    }

    [Fact]
    public void WriteTo_replaces_an_earlier_report()
    {
        new HtmlReport("old").AddImage("a.png", FirstPng, "").WriteTo(_folder);
        new HtmlReport("new").AddImage("a.png", SecondPng, "").WriteTo(_folder);

        Assert.Equal(SecondPng, File.ReadAllBytes(Path.Combine(_folder, "a.png")));
        Assert.Contains("<title>new</title>", File.ReadAllText(Path.Combine(_folder, "index.html")));
        Assert.Equal(2, Directory.GetFiles(_folder).Length);
    }

    [Fact]
    public void WriteTo_writes_through_a_symbolic_link_to_an_image()
    {
        Directory.CreateDirectory(_folder);
        string kept = Path.Combine(_folder, "kept.png");
        File.WriteAllBytes(kept, FirstPng);
        File.CreateSymbolicLink(Path.Combine(_folder, "a.png"), kept);
        new HtmlReport("r").AddImage("a.png", SecondPng, "").WriteTo(_folder);

        Assert.Equal(kept, new FileInfo(Path.Combine(_folder, "a.png")).LinkTarget);
        Assert.Equal(SecondPng, File.ReadAllBytes(kept));
    }

    [Fact]
    public void Page_is_self_contained()
    {
        string html = new HtmlReport("r").AddParagraph("p").AddImage("a.png", FirstPng, "c").ToHtml();

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<style>", html);
        Assert.Contains("<meta charset=\"utf-8\">", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<link", html);
    }

    [Fact]
    public void Table_has_header_and_rows_in_order()
    {
        string html = new HtmlReport("r").AddTable(["metric", "value"], [["loss", "0.12"], ["accuracy", "0.97"]]).ToHtml();

        Assert.Contains("<thead><tr><th>metric</th><th>value</th></tr></thead>", html);
        Assert.Contains("<tr><td>loss</td><td>0.12</td></tr>\n<tr><td>accuracy</td><td>0.97</td></tr>", html);
    }

    [Fact]
    public void Heading_level_sets_the_element()
    {
        string html = new HtmlReport("r").AddHeading("Section", 3).ToHtml();
        Assert.Contains("<h3>Section</h3>", html);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HtmlReport("r").AddHeading("x", 7));
        Assert.Equal("level", error.ParamName);
    }

    [Theory]
    [InlineData("../escape.png")]
    [InlineData("sub/dir.png")]
    [InlineData("")]
    [InlineData("index.html")]
    public void Image_file_name_must_be_a_plain_new_name(string fileName)
    {
        var error = Assert.Throws<ArgumentException>(() => new HtmlReport("r").AddImage(fileName, FirstPng, "c"));
        Assert.Equal("fileName", error.ParamName);
    }

    [Fact]
    public void Image_file_names_must_be_unique()
    {
        var report = new HtmlReport("r").AddImage("a.png", FirstPng, "c");
        var error = Assert.Throws<ArgumentException>(() => report.AddImage("a.png", SecondPng, "d"));
        Assert.Equal("fileName", error.ParamName);
        Assert.Contains("a.png", error.Message);
    }

    [Fact]
    public void Table_rows_must_match_the_header()
    {
        var error = Assert.Throws<ArgumentException>(() => new HtmlReport("r").AddTable(["a", "b"], [["1", "2"], ["3"]]));
        Assert.Equal("rows", error.ParamName);
        Assert.Contains("'rows'[1] has 1 cells", error.Message);
        Assert.Contains("2 columns", error.Message);
    }

    [Fact]
    public void Report_with_real_charts_round_trips_the_png_bytes()
    {
        byte[] acf = Charts.Acf([1.0, 0.4, 0.1], 50, "ACF");
        new HtmlReport("r").AddImage("acf.png", acf, "ACF").WriteTo(_folder);

        byte[] written = File.ReadAllBytes(Path.Combine(_folder, "acf.png"));
        Assert.Equal(acf, written);
        using var image = new PngInspector(written);
        Assert.Equal(800, image.Width);
    }
}
