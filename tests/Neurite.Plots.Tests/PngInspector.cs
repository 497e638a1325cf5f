using System.Buffers.Binary;
using SkiaSharp;

namespace Neurite.Plots.Tests;

/// <summary>Reads PNG bytes independently of the chart code: the header by hand, the pixels with SkiaSharp.</summary>
internal sealed class PngInspector : IDisposable
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly SKBitmap _bitmap;

    public PngInspector(byte[] png)
    {
        Assert.NotNull(png);
        Assert.True(png.Length > 33, $"PNG too short: {png.Length} bytes");
        Assert.Equal(Signature, png[..8]);
        // The first chunk must be IHDR: 4-byte length 13, type "IHDR", then big-endian width and height.
        Assert.Equal(13u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(8, 4)));
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        HeaderWidth = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16, 4));
        HeaderHeight = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20, 4));
        _bitmap = SKBitmap.Decode(png) ?? throw new Xunit.Sdk.XunitException("SkiaSharp could not decode the PNG");
    }

    public int HeaderWidth { get; }
    public int HeaderHeight { get; }
    public int Width => _bitmap.Width;
    public int Height => _bitmap.Height;

    public SKColor Pixel(int x, int y) => _bitmap.GetPixel(x, y);

    /// <summary>Text and frame lines are near black; coloured chart elements are not.</summary>
    public static bool IsDark(SKColor color) => color.Red < 110 && color.Green < 110 && color.Blue < 110;

    public int DistinctColorCount()
    {
        var colors = new HashSet<uint>();
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                colors.Add((uint)Pixel(x, y));
        return colors.Count;
    }

    public int CountPixels(Func<SKColor, bool> predicate, int left, int top, int right, int bottom)
    {
        int count = 0;
        for (int y = top; y < bottom; y++)
            for (int x = left; x < right; x++)
                if (predicate(Pixel(x, y)))
                    count++;
        return count;
    }

    public int CountColor(SKColor color) => CountPixels(pixel => pixel == color, 0, 0, Width, Height);

    /// <summary>
    /// Dark pixels in the middle 40% of columns above the top edge of the (first) data area, found as the first
    /// row that is dark across those columns. That band holds the title and nothing else.
    /// </summary>
    public int DarkPixelsAboveDataFrame()
    {
        int left = Width * 3 / 10, right = Width * 7 / 10;
        int dark = 0;
        for (int y = 0; y < Height; y++)
        {
            int rowDark = CountPixels(IsDark, left, y, right, y + 1);
            if (rowDark >= (right - left) * 9 / 10)
                return dark;
            dark += rowDark;
        }
        throw new Xunit.Sdk.XunitException("No data-area frame line found in the image");
    }

    public void Dispose() => _bitmap.Dispose();
}
